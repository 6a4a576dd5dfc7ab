/**
 * Zod schemas are built once, at module level, and only used where input is checked: zod
 * builds a schema in ~6 µs, and `z.string().min(1)` built at each `registerAgent` call was
 * 17 % of what registering an agent cost. Read from the source text: a schema built and
 * used in one expression (`z.string().min(1).safeParse(x)`, `parseOrThrow(z.string(), ...)`)
 * is built at every call.
 */
import { readSourceFiles, REPOSITORY_ROOT } from './support/importGraph';

/** Lines that build a schema and parse with it in the same expression. */
function schemasBuiltPerCall(text: string): string[] {
  const builtAndUsed = /(?:^|[^\w.])z\.\w+\(.*\)\.(?:safeParse|parse|parseAsync|safeParseAsync)\(|parseOrThrow\(\s*z\./;
  return text.split('\n').filter((line) => builtAndUsed.test(line) && !/^\s*(\*|\/\/)/.test(line));
}

describe('zod schemas are built once', () => {
  it('no source file builds a schema in the expression that parses with it', () => {
    const files = readSourceFiles(REPOSITORY_ROOT, ['src', 'machines']);
    expect(files.length).toBeGreaterThan(200);
    const found = files.flatMap((file) => schemasBuiltPerCall(file.text).map((line) => `${file.path}: ${line.trim()}`));
    expect(found).toEqual([]);
  });

  it('sees the forms it looks for, and not a schema built once and used later', () => {
    expect(schemasBuiltPerCall('    const id = z.string().min(1).safeParse(agentId);')).toHaveLength(1);
    expect(schemasBuiltPerCall("    const id = parseOrThrow(z.string().min(1), 'agentId', agentId);")).toHaveLength(1);
    expect(schemasBuiltPerCall('    const i = z.object({ a: z.number().default(1) }).safeParse({ a });')).toHaveLength(1);
    expect(schemasBuiltPerCall('const NonEmptyIdSchema = z.string().min(1);')).toEqual([]);
    expect(schemasBuiltPerCall('    const id = NonEmptyIdSchema.safeParse(agentId);')).toEqual([]);
    expect(schemasBuiltPerCall(' * e.g. `z.string().min(1).safeParse(x)` in a comment')).toEqual([]);
  });
});
