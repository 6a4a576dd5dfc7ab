import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The inspector page's ES modules, by their path under `/app/` (without `.js`). The page's
 * sources are TypeScript in `page/` (compiled with `page/tsconfig.json`, DOM library) and
 * share `inspectorProtocol.ts` with the server. Only these paths are served.
 * @internal
 */
export const PAGE_MODULES: readonly string[] = [
  'inspectorProtocol',
  'page/main',
  'page/dom',
  'page/stateText',
  'page/pageState',
  'page/zoomableCanvas',
  'page/actorTree',
  'page/workflowDag',
  'page/statechartView',
  'page/sequenceView',
  'page/conflictsView',
  'page/swarmView',
  'page/eventsView',
  'page/actionButtons',
];

/** Where the build (`npm run build`) puts the compiled page: beside the compiled server. */
const BUILT_DIR = join(__dirname, 'browser');

interface TypeScriptCompiler {
  transpileModule(input: string, options: { compilerOptions: Record<string, unknown>; fileName: string }): { outputText: string };
  ModuleKind: { ES2020: number };
  ScriptTarget: { ES2020: number };
}

let compiler: TypeScriptCompiler | undefined;
const cache = new Map<string, Promise<string>>();

/**
 * From the package (`dist/`), the compiled module. From the sources (tests, development
 * with a TypeScript loader), the `.ts` file transpiled on demand with the `typescript`
 * package (a development dependency): the same code, with no build step. Type errors are
 * the typecheck's business (`npm run typecheck` checks `page/tsconfig.json` too).
 */
async function load(name: string): Promise<string> {
  const built = join(BUILT_DIR, `${name}.js`);
  if (existsSync(built)) return readFile(built, 'utf8');
  const source = join(__dirname, `${name}.ts`);
  if (!existsSync(source)) throw new Error(`inspector page module ${name} is missing: run npm run build`);
  // Loaded only here: an installed package has the compiled page and never needs it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberate lazy load of an optional dev dependency
  compiler ??= require('typescript') as TypeScriptCompiler;
  const text = await readFile(source, 'utf8');
  return compiler.transpileModule(text, {
    fileName: source,
    compilerOptions: { module: compiler.ModuleKind.ES2020, target: compiler.ScriptTarget.ES2020, verbatimModuleSyntax: true },
  }).outputText;
}

/**
 * The JavaScript of one page module, or undefined for a path that is not one.
 * @internal
 */
export function pageModule(path: string): Promise<string> | undefined {
  const match = /^\/app\/([A-Za-z/]+)\.js$/.exec(path);
  const name = match?.[1];
  if (name === undefined || !PAGE_MODULES.includes(name)) return undefined;
  let text = cache.get(name);
  if (!text) {
    text = load(name);
    cache.set(name, text);
    text.catch(() => cache.delete(name));
  }
  return text;
}
