/**
 * The integrations' packages load when a feature uses them, not with `require('neuroflux')`
 * (issue #16): no module of the package imports one of them for its values at the top
 * (type imports are erased). The packed package's module count is checked by
 * test/packaging.test.ts; this is the fast check that names the file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const root = join(__dirname, '..');

/** Loaded on use only (the CLI, never part of `require('neuroflux')`, may import commander). */
const LAZY = /^(@nats-io\/|ioredis$|ws$|prom-client$|@opentelemetry\/api$|yaml$|graphology|commander$)/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name))
    .filter((file) => !/[/\\](cli|page)[/\\]/.test(relative(root, file)));
}

/** `file: import of 'package'` for every top-level import or re-export that needs a package's values. */
function eagerImports(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const name = relative(root, file);
  for (const statement of source.statements) {
    let specifier: string | undefined;
    let typeOnly = false;
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      specifier = statement.moduleSpecifier.text;
      const clause = statement.importClause;
      const bindings = clause?.namedBindings;
      typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly || (clause.name === undefined && bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.every((e) => e.isTypeOnly)));
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)) {
      specifier = statement.moduleSpecifier.text;
      const clause = statement.exportClause;
      typeOnly = statement.isTypeOnly || (clause !== undefined && ts.isNamedExports(clause) && clause.elements.every((e) => e.isTypeOnly));
    } else if (ts.isImportEqualsDeclaration(statement) && ts.isExternalModuleReference(statement.moduleReference) && ts.isStringLiteral(statement.moduleReference.expression)) {
      specifier = statement.moduleReference.expression.text;
      typeOnly = statement.isTypeOnly;
    }
    if (specifier !== undefined && LAZY.test(specifier) && !typeOnly) found.push(`${name}: import of '${specifier}'`);
  }
  // `require('x')` / `import('x')` run when the module loads unless a function holds them
  // (`const { Redis } = require('ioredis')` at the top is as eager as an import).
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) || (ts.isPropertyDeclaration(node) && !node.modifiers?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword))) return;
    if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
      const argument = node.arguments[0];
      if (argument && ts.isStringLiteralLike(argument) && LAZY.test(argument.text)) found.push(`${name}: top-level ${node.expression.getText(source)} of '${argument.text}'`);
    }
    ts.forEachChild(node, visit);
  };
  for (const statement of source.statements) if (!ts.isImportDeclaration(statement) && !ts.isImportEqualsDeclaration(statement)) visit(statement);
  return found;
}

describe('lazily loaded dependencies', () => {
  test('no module of the package imports an integration package for its values at the top', () => {
    const files = [...sources(join(root, 'src')), ...sources(join(root, 'machines'))];
    expect(files.length).toBeGreaterThan(100);
    expect(files.flatMap((file) => eagerImports(file, readFileSync(file, 'utf8')))).toEqual([]);
  });

  test('the check sees value imports, default and namespace imports, re-exports, import = require, and require()/import() run at load time', () => {
    const text = [
      "import { connect } from '@nats-io/transport-node';",
      "import type { Redis } from 'ioredis';",
      "import { type Registry } from 'prom-client';",
      "import YAML from 'yaml';",
      "import * as otel from '@opentelemetry/api';",
      "export { WebSocket } from 'ws';",
      "export type { Command } from 'commander';",
      "import graphology = require('graphology');",
      "import { z } from 'zod';",
      "const { Redis } = require('ioredis');",
      "export const metrics = require('prom-client').register;",
      "class A { static ws = require('ws'); lazy = require('yaml'); }",
      "const later = () => require('@opentelemetry/api');",
      "function load() { return require('graphology'); }",
      "void import('@nats-io/kv');",
      "const fine = require('zod');",
    ].join('\n');
    expect(eagerImports(join(root, 'src', 'x.ts'), text)).toEqual([
      "src/x.ts: import of '@nats-io/transport-node'",
      "src/x.ts: import of 'yaml'",
      "src/x.ts: import of '@opentelemetry/api'",
      "src/x.ts: import of 'ws'",
      "src/x.ts: import of 'graphology'",
      "src/x.ts: top-level require of 'ioredis'",
      "src/x.ts: top-level require of 'prom-client'",
      "src/x.ts: top-level require of 'ws'",
      "src/x.ts: top-level import of '@nats-io/kv'",
    ]);
  });
});
