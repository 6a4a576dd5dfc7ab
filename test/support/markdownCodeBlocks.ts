/**
 * The fenced code blocks of the README and docs/, for the test that keeps them honest
 * (test/docsCodeBlocks.test.ts). A block may be preceded by a marker comment, invisible
 * on the rendered page:
 *
 * - `<!-- doc-test: fragment -->` a piece of a larger example: neither compiled nor run;
 * - `<!-- doc-test: run -->` type-checked and run (it must finish and close what it opens);
 * - `<!-- doc-test: nats-host -->` / `<!-- doc-test: nats-client -->` type-checked and run as
 *   processes against a private nats-server (the hosts first, then each client to its end).
 *
 * Every other `ts` block is type-checked as a module of its own.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export type BlockMarker = 'fragment' | 'run' | 'nats-host' | 'nats-client';

/** One fenced block of a Markdown file. */
export interface CodeBlock {
  /** The file, relative to the repository root. */
  readonly file: string;
  /** 1-based line of the block's first code line. */
  readonly line: number;
  /** The fence's language (`ts`, `sh`, …), '' when none. */
  readonly lang: string;
  readonly marker: BlockMarker | undefined;
  readonly code: string;
}

const MARKERS: ReadonlySet<string> = new Set<BlockMarker>(['fragment', 'run', 'nats-host', 'nats-client']);

/** The Markdown files whose blocks are checked: README.md and docs/*.md. */
export function documentationFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

/** The fenced blocks of `markdown`; an unknown `doc-test:` marker or an unclosed fence throws. */
export function extractCodeBlocks(file: string, markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})([\w-]*)/.exec(lines[i] as string);
    if (!open) continue;
    const [, indent, fence, lang] = open as unknown as [string, string, string, string];
    let previous = i - 1;
    while (previous >= 0 && (lines[previous] as string).trim() === '') previous--;
    const markerText = previous >= 0 ? /^\s*<!--\s*doc-test:\s*([\w-]+)\s*-->\s*$/.exec(lines[previous] as string)?.[1] : undefined;
    if (markerText !== undefined && !MARKERS.has(markerText)) throw new Error(`${file}:${previous + 1}: unknown doc-test marker '${markerText}'`);
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !(lines[j] as string).startsWith(`${indent}${fence}`); j++) body.push((lines[j] as string).slice(indent.length));
    if (j === lines.length) throw new Error(`${file}:${i + 1}: unclosed code fence`);
    blocks.push({ file, line: i + 2, lang, marker: markerText as BlockMarker | undefined, code: body.join('\n') });
    i = j;
  }
  return blocks;
}

/** Every block of the README and docs/. */
export function documentationBlocks(root: string): CodeBlock[] {
  return documentationFiles(root).flatMap((file) => extractCodeBlocks(file, readFileSync(join(root, file), 'utf8')));
}

/** `file:line` of a block, for messages. */
export function blockName(block: CodeBlock): string {
  return `${block.file}:${block.line}`;
}

/** A TypeScript block (```ts or ```typescript). */
export function isTypeScript(block: CodeBlock): boolean {
  return block.lang === 'ts' || block.lang === 'typescript';
}

/** A shell block (```sh, ```bash, ```shell). */
export function isShell(block: CodeBlock): boolean {
  return block.lang === 'sh' || block.lang === 'bash' || block.lang === 'shell';
}

/** One `neuroflux …` invocation found in a shell block: its subcommand (if any) and its `--flags`. */
export interface CliInvocation {
  readonly line: number;
  readonly text: string;
  readonly command: string | undefined;
  readonly flags: readonly string[];
}

/**
 * The `neuroflux` invocations of a shell block (`neuroflux …` or `npx neuroflux …`, also after
 * `&&`, `;` or `|`). Comments and redirections are dropped.
 */
export function cliInvocations(block: CodeBlock): CliInvocation[] {
  const found: CliInvocation[] = [];
  block.code.split('\n').forEach((raw, index) => {
    const text = raw.replace(/(^|\s)#.*$/, '').trim();
    for (const segment of text.split(/&&|\|\|?|;/)) {
      const words = segment
        .trim()
        .split(/\s+/)
        .filter((w) => w !== '');
      const start = words[0] === 'npx' ? 1 : 0;
      if (words[start] !== 'neuroflux') continue;
      const args: string[] = [];
      for (const word of words.slice(start + 1)) {
        if (/^\d*>/.test(word) || word === '<') break;
        args.push(word);
      }
      const command = args[0] !== undefined && !args[0].startsWith('-') ? args[0] : undefined;
      const flags = args.filter((a) => a.startsWith('--')).map((a) => a.replace(/=.*$/, ''));
      found.push({ line: block.line + index, text, command, flags });
    }
  });
  return found;
}
