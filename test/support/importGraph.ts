import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

/**
 * The imports of our own source, read with the TypeScript parser (not regexes: a commented
 * out import, a string that looks like one, or an import spread over lines must not fool
 * the architecture test). Every form that loads a module counts: `import`, `import type`,
 * `export ... from`, `import x = require()`, `import()`, `require()` and `import('x').T`
 * in a type. Type-only imports are erased at run time but still couple the layers, so they
 * count too; they are flagged so a message can say so.
 */

/** One import of one file. Paths are repository-relative with `/` separators. */
export interface ImportEdge {
  /** The importing file, e.g. `src/bus/message.ts`. */
  readonly from: string;
  /** A repository file (`src/errors.ts`), or a package name (`xstate`, `@nats-io/kv`, `node:fs`). */
  readonly to: string;
  readonly toPackage: boolean;
  /** Erased at run time (`import type`, `export type`, every named import marked `type`, `import('x').T`). */
  readonly typeOnly: boolean;
  /** 1-based line of the import in `from`. */
  readonly line: number;
}

/** A source file to read: repository-relative path and its text. */
export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

/** The package a bare specifier names: `@scope/name/deep` → `@scope/name`, `rxjs/internal/x` → `rxjs`. */
export function packageOf(specifier: string): string {
  if (specifier.startsWith('node:')) return specifier;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/**
 * The repository file a relative specifier names, among `known` files: `./x` is `x.ts` or
 * `x/index.ts`; ES-module style `./x.js` (the inspector page) is `x.ts`.
 */
export function resolveRelative(from: string, specifier: string, known: ReadonlySet<string>): string | undefined {
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const candidates = [base, `${base}.ts`, `${base}.tsx`, `${base}/index.ts`, base.replace(/\.js$/, '.ts')];
  return candidates.find((c) => known.has(c));
}

/** The imports of `files`; a relative specifier that names none of them is reported in `unresolved`. */
export function collectImports(files: readonly SourceFile[]): { edges: ImportEdge[]; unresolved: ImportEdge[] } {
  const known = new Set(files.map((f) => f.path));
  const edges: ImportEdge[] = [];
  const unresolved: ImportEdge[] = [];
  for (const file of files) {
    const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
    const add = (literal: ts.StringLiteralLike, typeOnly: boolean) => {
      const specifier = literal.text;
      const line = source.getLineAndCharacterOfPosition(literal.getStart(source)).line + 1;
      if (!specifier.startsWith('.')) {
        edges.push({ from: file.path, to: packageOf(specifier), toPackage: true, typeOnly, line });
        return;
      }
      const target = resolveRelative(file.path, specifier, known);
      if (target === undefined) unresolved.push({ from: file.path, to: specifier, toPackage: false, typeOnly, line });
      else edges.push({ from: file.path, to: target, toPackage: false, typeOnly, line });
    };
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        add(node.moduleSpecifier, isTypeOnlyImport(node));
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        const elements = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
        add(node.moduleSpecifier, node.isTypeOnly || (elements !== undefined && elements.length > 0 && elements.every((e) => e.isTypeOnly)));
      } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
        const expression = node.moduleReference.expression;
        if (ts.isStringLiteralLike(expression)) add(expression, node.isTypeOnly);
      } else if (ts.isCallExpression(node) && isModuleLoad(node)) {
        const argument = node.arguments[0];
        if (argument && ts.isStringLiteralLike(argument)) add(argument, false);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        add(node.argument.literal, true);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { edges, unresolved };
}

function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false; // `import './x'`: loaded for its effects
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  return clause.name === undefined && bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}

/** `import('x')` and `require('x')` (lazy loading of heavy dependencies uses both). */
function isModuleLoad(node: ts.CallExpression): boolean {
  if (node.expression.kind === ts.SyntaxKind.ImportKeyword) return true;
  return ts.isIdentifier(node.expression) && node.expression.text === 'require' && node.arguments.length === 1;
}

/** The `.ts` files under `dirs` (repository-relative), with their text; `.d.ts` files are not source. */
export function readSourceFiles(repositoryRoot: string, dirs: readonly string[]): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) {
        files.push({ path: relative(repositoryRoot, full).split(sep).join('/'), text: readFileSync(full, 'utf8') });
      }
    }
  };
  for (const dir of dirs) walk(join(repositoryRoot, dir));
  return files;
}

/** @internal the repository root, from this file's place in it. */
export const REPOSITORY_ROOT = dirname(dirname(__dirname));
