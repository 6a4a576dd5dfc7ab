import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import { SubjectTokenSchema } from '../transport/natsOptions';
import type { NeuroFlux } from '../runtime/createNeuroFlux';
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

/**
 * `--inspect-actions-from <identities>` of `run --nats` (actions act on an orchestrator; a
 * host has none): comma-separated NATS
 * identities of inspectors (`neuroflux inspect --nats --credentials`) whose page actions
 * this runtime runs (`publishInspection({ actions: { from } })`). Without it, none.
 * @internal
 */
export const InspectActionsFromSchema = z
  .preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s.length > 0)
        : value,
    z.array(SubjectTokenSchema).min(1),
  )
  .optional();

/** The option's help text. @internal */
export const INSPECT_ACTIONS_FROM_HELP =
  'comma-separated NATS identities of inspectors (nats-config --inspectors) whose actions (cancel, retry, pause, resume) this process runs; default none';

/** `publishInspection`'s `actions` for `--inspect-actions-from`. @internal */
export function inspectActionsOption(from: readonly string[] | undefined): { from: string[] } | false {
  return from === undefined ? false : { from: [...from] };
}

/**
 * The inspection runtime id of `run --nats` without credentials: unique in the namespace
 * even where every container's process id is 1 (host name, process id, a random suffix).
 * @internal
 */
export function orchestratorRuntimeId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_-]/g, '-')
      .slice(0, 60) || 'host';
  return `orchestrator-${host}-${process.pid}-${randomBytes(4).toString('hex')}`;
}
