import ts from 'typescript';
import type { SourceFile } from './importGraph';

/**
 * Globals through which code reaches the world without an import: timers, the wall clock,
 * randomness, the process, the console, the network. A machine or a model module that
 * names one is not pure, whatever it imports: its effects must be injected (the system's
 * clock, a seeded `RandomSource`, `setup({ actions, actors, delays })`).
 */
export const AMBIENT_EFFECTS: ReadonlySet<string> = new Set([
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'clearImmediate',
  'queueMicrotask',
  'Date',
  'performance',
  'process',
  'console',
  'fetch',
  'crypto',
  'require',
  'globalThis',
  'Buffer',
]);

/** One use of an ambient effect: `Math.random` or one of {@link AMBIENT_EFFECTS}, as a value. */
export interface AmbientEffect {
  readonly path: string;
  readonly line: number;
  readonly name: string;
}

/** Where `file` uses an ambient effect as a value (types such as `Date` in a signature are fine). */
export function findAmbientEffects(file: SourceFile): AmbientEffect[] {
  const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found: AmbientEffect[] = [];
  // A name the file declares itself (a parameter `process`, a local `random`) is not the
  // global; without a type checker, any declaration of the name in the file shadows it.
  const declared = new Set<string>();
  const collect = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && !isValueReference(node) && isDeclarationName(node)) declared.add(node.text);
    ts.forEachChild(node, collect);
  };
  collect(source);
  const report = (node: ts.Node, name: string) => found.push({ path: file.path, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, name });
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'Math' && node.name.text === 'random') {
      report(node, 'Math.random');
    } else if (ts.isIdentifier(node) && AMBIENT_EFFECTS.has(node.text) && !declared.has(node.text) && isValueReference(node)) {
      report(node, node.text);
    }
    if (!ts.isTypeNode(node) || ts.isTypeQueryNode(node)) ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** False where an identifier is a name being declared or a property name, not a reference to the global. */
function isValueReference(node: ts.Identifier): boolean {
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent)) return parent.expression === node;
  if (ts.isQualifiedName(parent)) return parent.left === node;
  if (
    (ts.isPropertyAssignment(parent) ||
      ts.isPropertyDeclaration(parent) ||
      ts.isPropertySignature(parent) ||
      ts.isMethodDeclaration(parent) ||
      ts.isMethodSignature(parent) ||
      ts.isGetAccessor(parent) ||
      ts.isSetAccessor(parent) ||
      ts.isEnumMember(parent) ||
      ts.isVariableDeclaration(parent) ||
      ts.isParameter(parent) ||
      ts.isFunctionDeclaration(parent) ||
      ts.isBindingElement(parent)) &&
    parent.name === node
  ) {
    return false;
  }
  return !ts.isImportSpecifier(parent) && !ts.isExportSpecifier(parent) && !ts.isTypeReferenceNode(parent);
}

function isDeclarationName(node: ts.Identifier): boolean {
  const parent = node.parent;
  return (
    ((ts.isVariableDeclaration(parent) || ts.isParameter(parent) || ts.isFunctionDeclaration(parent) || ts.isBindingElement(parent) || ts.isClassDeclaration(parent)) &&
      parent.name === node) ||
    ts.isImportSpecifier(parent) ||
    ts.isImportClause(parent) ||
    ts.isNamespaceImport(parent)
  );
}
