import { z } from 'zod';
import type { NeuroFlux } from '../kernel/createNeuroFlux';
import { createInspectionHub, type InspectionHub } from '../observability/inspector/inspectionHub';
import { startInspector, type Inspector } from '../observability/inspector/inspectorServer';

/**
 * `--inspect [port]` of `run` and `host`: the live inspector on loopback for as long as the
 * command runs (commander gives `true` without a port).
 * @internal
 */
export const InspectPortSchema = z.union([z.literal(true), z.coerce.number().int().min(0).max(65_535)]).optional();

/** The option's help text. @internal */
export const INSPECT_OPTION_HELP = 'serve the live inspector on 127.0.0.1:<port> while this runs (no port: a free one)';

/**
 * A hub for `createNeuroFlux({ inspect })` when `--inspect` was given, so that the inspector
 * sees every actor from the start.
 * @internal
 */
export function inspectionHubFor(inspect: z.output<typeof InspectPortSchema>): InspectionHub | undefined {
  return inspect === undefined ? undefined : createInspectionHub();
}

/**
 * Starts the inspector of `--inspect` on a started runtime and says where it is.
 * @internal
 */
export async function startCliInspector(
  nf: NeuroFlux,
  hub: InspectionHub | undefined,
  inspect: z.output<typeof InspectPortSchema>,
  say: (text: string) => void,
): Promise<Inspector | undefined> {
  if (!hub || inspect === undefined) return undefined;
  const inspector = await startInspector(nf, { hub, port: inspect === true ? 0 : inspect });
  say(`inspector: ${inspector.url}\n`);
  return inspector;
}
