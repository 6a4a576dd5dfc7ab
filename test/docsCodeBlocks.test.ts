/**
 * Every code block of README.md and docs/ compiles, and the marked ones run, so no example
 * in the docs rots (the markers are described in test/support/markdownCodeBlocks.ts):
 * - each ```ts block is type-checked as a module of its own, strict, with `neuroflux` and
 *   `neuroflux/jest` mapped to src/ (what a user gets, from the sources of this commit);
 * - the blocks marked `run` run in this process and must settle;
 * - the README's distributed snippet (`nats-host`, `nats-client`) runs as written, as
 *   separate processes, against a private nats-server;
 * - each `neuroflux …` line of a shell block names a command and flags the CLI has.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import type { Command } from 'commander';
import { buildCli } from '../src/cli/main';
import { blockName, cliInvocations, type CliInvocation, documentationBlocks, isShell, isTypeScript, type CodeBlock } from './support/markdownCodeBlocks';
import { describeWithServer, NATS_SERVER_BIN, natsServerForSuite } from './support/servers';
import { stopChild } from './support/childProcesses';

const root = join(__dirname, '..');
const blocks = documentationBlocks(root);
const typeScriptBlocks = blocks.filter((b) => isTypeScript(b) && b.marker !== 'fragment');
const virtualDir = join(root, '.doc-blocks');
const virtualPath = (block: CodeBlock) => join(virtualDir, `${block.file.replace(/[/.]/g, '_')}_${block.line}.ts`);

/**
 * The package's entry points, as a user imports them: package.json `exports`, each mapped
 * to its source (`./dist/types/src/entries/nats.d.ts` is src/entries/nats.ts).
 */
const entryPoints: Record<string, string> = Object.fromEntries(
  Object.entries((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | { types: string }> }).exports).flatMap(([subpath, target]) =>
    typeof target === 'string' ? [] : [[join('neuroflux', subpath), join(root, target.types.replace(/^\.\/dist\/types\//, '').replace(/\.d\.ts$/, '.ts'))]],
  ),
);

const compilerOptions: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2022.d.ts'],
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  moduleDetection: ts.ModuleDetectionKind.Force,
  strict: true,
  noUncheckedIndexedAccess: true,
  esModuleInterop: true,
  resolveJsonModule: true,
  skipLibCheck: true,
  noEmit: true,
  types: ['node', 'jest'],
  typeRoots: [join(root, 'node_modules', '@types')],
  baseUrl: root,
  paths: Object.fromEntries(Object.entries(entryPoints).map(([name, path]) => [name, [path]])),
};

/** Type-checks every block in one program (the sources are parsed once); diagnostics per block. */
function typeCheck(list: readonly CodeBlock[]): Map<CodeBlock, string[]> {
  const byPath = new Map(list.map((b) => [virtualPath(b), b]));
  const host = ts.createCompilerHost(compilerOptions);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const block = byPath.get(fileName);
    return block ? ts.createSourceFile(fileName, block.code, languageVersion, true) : getSourceFile(fileName, languageVersion, onError, shouldCreate);
  };
  host.fileExists = (fileName) => byPath.has(fileName) || fileExists(fileName);
  host.readFile = (fileName) => byPath.get(fileName)?.code ?? readFile(fileName);
  const program = ts.createProgram([...byPath.keys()], compilerOptions, host);
  const result = new Map<CodeBlock, string[]>();
  for (const [path, block] of byPath) {
    const sourceFile = program.getSourceFile(path) as ts.SourceFile;
    const messages = ts.getPreEmitDiagnostics(program, sourceFile).map((d) => {
      const at = d.start === undefined ? 0 : sourceFile.getLineAndCharacterOfPosition(d.start).line;
      return `${block.file}:${block.line + at}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    result.set(block, messages);
  }
  return result;
}

/**
 * A block as a CommonJS script whose top level runs in an async function (blocks use
 * top-level await), with every import resolved to an absolute path from the repository
 * (so the script runs from a temporary folder), `neuroflux` to src/.
 */
function asScript(block: CodeBlock): string {
  const { outputText } = ts.transpileModule(block.code, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: virtualPath(block),
  });
  const resolved = outputText.replace(/require\("([^"]+)"\)/g, (_all, specifier: string) => {
    const target = entryPoints[specifier] ?? require.resolve(specifier, { paths: [root] });
    return `require(${JSON.stringify(target)})`;
  });
  return `module.exports = (async () => {\n${resolved}\n})();\n`;
}

describe('docs code blocks', () => {
  test('the few fragments are marked, and the markers are known', () => {
    const fragments = blocks.filter((b) => b.marker === 'fragment').map(blockName);
    expect(fragments.length).toBeLessThanOrEqual(6);
    expect(typeScriptBlocks.length).toBeGreaterThan(20);
  });

  // One program for all (parsing src/ is most of the time), with a block that must not compile.
  const broken: CodeBlock = {
    file: 'docs/broken.md',
    line: 10,
    lang: 'ts',
    marker: undefined,
    code: "import { createNeuroFlux } from 'neuroflux';\n\ncreateNeuroFlux({ nope: 1 });",
  };
  let diagnostics: Map<CodeBlock, string[]>;
  beforeAll(() => {
    diagnostics = typeCheck([...typeScriptBlocks, broken]);
  }, 180_000);

  test('every TypeScript block type-checks (strict, against src/)', () => {
    const problems = typeScriptBlocks.flatMap((b) => diagnostics.get(b) ?? [`${blockName(b)}: not checked`]);
    expect(problems).toEqual([]);
  });

  test('a block that does not compile is reported with its file and line (the check can fail)', () => {
    expect(diagnostics.get(broken)).toEqual([expect.stringMatching(/^docs\/broken\.md:12: Object literal may only specify known properties/)]);
  });

  const runnable = blocks.filter((b) => b.marker === 'run');
  test('some blocks are marked to run', () => expect(runnable.length).toBeGreaterThanOrEqual(5));

  describe('the blocks marked run', () => {
    let dir: string;
    beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'nf-doc-blocks-'))));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test.each(runnable.map((b) => [blockName(b), b] as const))('%s runs to its end', async (_name, block) => {
      const file = join(dir, `${block.file.replace(/[/.]/g, '_')}_${block.line}.js`);
      writeFileSync(file, asScript(block));
      const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- runs the generated script file in this process
        await (require(file) as Promise<void>);
      } finally {
        log.mockRestore();
      }
    });
  });

  describe('shell blocks', () => {
    const program: Command = buildCli({ write: () => undefined, isTTY: false });
    const invocations = blocks.filter(isShell).flatMap((b) => cliInvocations(b).map((i) => ({ ...i, file: b.file })));

    /** What the CLI does not have: an unknown command, or flags neither it nor the program takes. */
    function unknownParts(invocation: CliInvocation): string[] {
      const global = new Set(['--help', ...program.options.map((o) => o.long)]);
      // `neuroflux <command> --help`: a placeholder names no command; its flags must be global.
      if (invocation.command?.startsWith('<')) return invocation.flags.filter((f) => !global.has(f)).map((f) => `flag ${f}`);
      const command =
        invocation.command === undefined ? undefined : program.commands.find((c) => c.name() === invocation.command || c.aliases().includes(invocation.command as string));
      if (invocation.command !== undefined && command === undefined) return [`command ${invocation.command}`];
      const known = new Set([...global, ...(command?.options.map((o) => o.long) ?? [])]);
      return invocation.flags.filter((f) => !known.has(f)).map((f) => `flag ${f}`);
    }

    test('the shell blocks name neuroflux commands', () => expect(invocations.length).toBeGreaterThan(5));

    test('an unknown command or flag is caught (the check can fail)', () => {
      const block: CodeBlock = { file: 'x.md', line: 1, lang: 'sh', marker: undefined, code: 'npx neuroflux demo --sed 7 # typo\nneuroflux fly' };
      expect(cliInvocations(block).map(unknownParts)).toEqual([['flag --sed'], ['command fly']]);
    });

    test.each(invocations.map((i) => [`${i.file}:${i.line} ${i.text}`, i] as const))('%s: the command and its flags exist', (_name, invocation) => {
      expect(unknownParts(invocation)).toEqual([]);
    });
  });
});

describe('README examples index', () => {
  test('lists every file of examples/, each with the test that runs it', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const rows = readme.split('\n').filter((l) => l.startsWith('| [') && l.includes('](examples/'));
    const listed = new Set(rows.flatMap((l) => [...l.matchAll(/\]\(examples\/([^/)]+)/g)].map((m) => m[1])));
    const present = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts') || !f.includes('.'));
    expect(present.filter((f) => !listed.has(f))).toEqual([]);
    const untested = rows.filter((l) => {
      const test = /\| (test\/[\w.]+\.test\.ts) \|$/.exec(l)?.[1];
      return test === undefined || !existsSync(join(root, test));
    });
    expect(untested).toEqual([]);
  });
});

/** Runs a block as a process of its own (`node -r @swc-node/register`), with NEUROFLUX_NATS_URL set. */
function startBlock(dir: string, block: CodeBlock, natsUrl: string) {
  const file = join(dir, `${block.file.replace(/[/.]/g, '_')}_${block.line}.js`);
  writeFileSync(file, `${asScript(block)}module.exports.catch((e) => { console.error(e); process.exit(1); });\n`);
  const child = spawn(process.execPath, ['-r', '@swc-node/register', file], {
    cwd: root,
    env: { ...process.env, NEUROFLUX_NATS_URL: natsUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

describeWithServer(NATS_SERVER_BIN, "the README's distributed snippet, as written, against a private nats-server", () => {
  const server = natsServerForSuite();
  const hosts = blocks.filter((b) => b.marker === 'nats-host');
  const clients = blocks.filter((b) => b.marker === 'nats-client');

  test('the README has an agent host and an orchestrator block', () => {
    expect(hosts.map((b) => b.file)).toContain('README.md');
    expect(clients.map((b) => b.file)).toContain('README.md');
  });

  test('the host processes serve, the orchestrator process submits its workflow, gets the result and exits on its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nf-doc-nats-'));
    const started = hosts.map((b) => startBlock(dir, b, server().url));
    try {
      for (const block of clients) {
        const client = startBlock(dir, block, server().url);
        const code = await client.exited;
        expect({ block: blockName(block), code, stderr: code === 0 ? '' : client.output().stderr }).toEqual({ block: blockName(block), code: 0, stderr: '' });
        expect(client.output().stdout).toContain('approved: true');
      }
      // Still serving until told to stop: the hosts did not exit on their own.
      expect(started.map((h) => h.child.exitCode)).toEqual(started.map(() => null));
      // Ctrl-C: each host stops its runtime and exits by itself (no kill after a grace period).
      for (const h of started) h.child.kill('SIGINT');
      expect(await Promise.all(started.map((h) => h.exited))).toEqual(started.map(() => 0));
    } finally {
      await Promise.all(started.map((h) => stopChild(h.child, 'SIGKILL')));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
