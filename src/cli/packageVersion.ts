import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';

const PackageJsonSchema = z.object({ name: z.literal('neuroflux'), version: z.string().min(1) });

/**
 * The version in NeuroFlux's package.json, found by walking up from this module (the
 * sources run from `src/cli/`, the build from `dist/src/cli/`, an install from
 * `node_modules/neuroflux/dist/src/cli/`).
 * @internal
 */
export function packageVersion(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const parsed = PackageJsonSchema.safeParse(JSON.parse(readFileSync(candidate, 'utf8')));
      if (parsed.success) return parsed.data.version;
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}
