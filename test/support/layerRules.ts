import type { ImportEdge } from './importGraph';

/**
 * The layers of NeuroFlux (docs/architecture.md, "Layers") and the rules the architecture
 * test holds the source to. A folder of `src/` is a node; `src/<domain>/model/` is a node of
 * its own (the pure rules a machine may use), the files directly in `src/` other than
 * `index.ts` are the shared base (`src/(shared)`: errors, `idRecord`, `jsonValue`,
 * `describeError`), and `machines/` is one node.
 */

/** The folder node of a repository file, or undefined for a file outside `src/` and `machines/`. */
export function folderOf(path: string): string | undefined {
  const parts = path.split('/');
  if (parts[0] === 'machines') return 'machines';
  if (parts[0] !== 'src' || parts.length < 2) return undefined;
  if (parts.length === 2) return parts[1] === 'index.ts' ? 'src/index' : SHARED;
  if (parts.length >= 4 && (parts[2] === 'model' || `src/${parts[1]}/${parts[2]}` === PLANNING)) return `src/${parts[1]}/${parts[2]}`;
  return `src/${parts[1]}`;
}

/** The node of the files directly in `src/` (other than `index.ts`). */
export const SHARED = 'src/(shared)';

/**
 * The orchestration's model, named for what it holds: the pure planners (ready order,
 * dependency outcomes, capability match, slot accounting) that the orchestrator and the
 * verifier share, one implementation each.
 */
export const PLANNING = 'src/orchestration/planning';

/** True for `src/<domain>/model` and {@link PLANNING}. */
export function isModelFolder(folder: string): boolean {
  return /^src\/[^/]+\/model$/.test(folder) || folder === PLANNING;
}

/**
 * One layer: its folders (`src/*\/model` stands for every model folder). A folder imports
 * only folders of lower layers; folders of one layer are independent of each other unless
 * the layer says `peers` (the model folders use one another's types; the cycle check keeps
 * that one-way).
 */
export interface Layer {
  readonly name: string;
  readonly folders: readonly string[];
  readonly peers?: boolean;
}

/** Bottom first. */
export const LAYERS: readonly Layer[] = [
  { name: 'shared base', folders: [SHARED] },
  { name: 'model', folders: ['src/*/model', PLANNING], peers: true },
  { name: 'machines', folders: ['machines'] },
  { name: 'kernel', folders: ['src/kernel'] },
  { name: 'bus', folders: ['src/bus'] },
  { name: 'transport', folders: ['src/transport'] },
  { name: 'stores and caches', folders: ['src/store', 'src/cache'] },
  { name: 'orchestration', folders: ['src/orchestration'] },
  { name: 'conflicts and swarm', folders: ['src/conflict', 'src/swarm'] },
  { name: 'scaling and observability', folders: ['src/scaling', 'src/observability'] },
  { name: 'runtime (composition root)', folders: ['src/runtime'] },
  { name: 'verification', folders: ['src/verify'] },
  { name: 'entry points', folders: ['src/index', 'src/entries'] },
  { name: 'CLI', folders: ['src/cli'] },
];

/** Packages a machine may import: the statechart library and immutable updates. */
export const MACHINE_PACKAGES: ReadonlySet<string> = new Set(['xstate', 'immer']);
/** Packages a model module may import: those, and zod for the schemas of its data. */
export const MODEL_PACKAGES: ReadonlySet<string> = new Set(['xstate', 'immer', 'zod']);
/** Packages the shared base (`src/*.ts`, under every layer) may import: zod only. */
export const SHARED_PACKAGES: ReadonlySet<string> = new Set(['zod']);
/**
 * The package's own name. Through `exports` it resolves to the built bundle (under node16),
 * so `import … from 'neuroflux'` inside the source is an import of everything, src/index.ts
 * included, that no folder rule would see as a file import: refused everywhere in src/ and machines/.
 */
export const OWN_PACKAGE = 'neuroflux';

/** What the layers are checked on: folder nodes and the file imports between them. */
export interface Architecture {
  readonly layers: readonly Layer[];
  readonly edges: readonly ImportEdge[];
}

export type RuleName = 'cycle' | 'machines' | 'kernel' | 'model' | 'shared' | 'self' | 'layer' | 'unplaced';

export interface Violation {
  readonly rule: RuleName;
  readonly message: string;
}

/** The layer index of `folder`, or undefined when no layer holds it. */
export function layerOf(layers: readonly Layer[], folder: string): number | undefined {
  const index = layers.findIndex((layer) => layer.folders.some((f) => f === folder || (f === 'src/*/model' && /^src\/[^/]+\/model$/.test(folder))));
  return index === -1 ? undefined : index;
}

const describe = (edge: ImportEdge) => `${edge.from}:${edge.line} imports ${edge.to}${edge.typeOnly ? ' (type-only)' : ''}`;

/** Every rule broken by `architecture`; empty when the source keeps the layers. */
export function checkArchitecture({ layers, edges }: Architecture): Violation[] {
  const violations: Violation[] = [];
  const unplaced = new Set<string>();
  /** folder → folder → the first file import that makes the edge (for messages). */
  const graph = new Map<string, Map<string, ImportEdge>>();

  for (const edge of edges) {
    const from = folderOf(edge.from);
    if (from === undefined) continue;
    const to = edge.toPackage ? undefined : folderOf(edge.to);

    if (from === 'machines') {
      const allowed = edge.toPackage ? MACHINE_PACKAGES.has(edge.to) : to === 'machines' || (to !== undefined && isModelFolder(to));
      if (!allowed) violations.push({ rule: 'machines', message: `${describe(edge)}: machines import only xstate, immer and src/*/model/ modules` });
    }
    if (isModelFolder(from)) {
      const allowed = edge.toPackage ? MODEL_PACKAGES.has(edge.to) : to === SHARED || (to !== undefined && isModelFolder(to));
      if (!allowed) violations.push({ rule: 'model', message: `${describe(edge)}: a model module imports only model modules, src/*.ts (shared), xstate, immer and zod` });
    }
    if (edge.toPackage && edge.to === OWN_PACKAGE) {
      violations.push({
        rule: 'self',
        message: `${describe(edge)}: the source never imports the package by its own name (that is the built bundle, every layer of it); import the file relatively`,
      });
    }
    if (from === SHARED && edge.toPackage && !SHARED_PACKAGES.has(edge.to)) {
      violations.push({ rule: 'shared', message: `${describe(edge)}: the shared base src/*.ts imports only zod` });
    }
    if (from === 'src/kernel' && to !== undefined && !['src/kernel', 'machines', SHARED].includes(to)) {
      violations.push({ rule: 'kernel', message: `${describe(edge)}: the kernel imports no domain folder (only machines/ and src/*.ts)` });
    }
    if (to === undefined || to === from) continue;

    for (const folder of [from, to]) {
      if (layerOf(layers, folder) === undefined && !unplaced.has(folder)) {
        unplaced.add(folder);
        violations.push({ rule: 'unplaced', message: `${folder} is in no layer: add it to LAYERS (test/support/layerRules.ts) and to docs/architecture.md` });
      }
    }
    const fromLayer = layerOf(layers, from);
    const toLayer = layerOf(layers, to);
    if (fromLayer !== undefined && toLayer !== undefined) {
      const peers = fromLayer === toLayer && layers[fromLayer]?.peers === true;
      if (toLayer > fromLayer || (toLayer === fromLayer && !peers)) {
        violations.push({
          rule: 'layer',
          message: `${describe(edge)}: ${from} (layer ${layers[fromLayer]?.name}) may not import ${to} (layer ${layers[toLayer]?.name})`,
        });
      }
    }
    let targets = graph.get(from);
    if (!targets) graph.set(from, (targets = new Map()));
    if (!targets.has(to)) targets.set(to, edge);
  }

  for (const { cycle, folders } of findCycles(graph)) {
    const steps = cycle.map((folder, i) => {
      const next = cycle[(i + 1) % cycle.length] as string;
      return `  ${folder} -> ${next}: ${describe(graph.get(folder)?.get(next) as ImportEdge)}`;
    });
    const tangle = folders.length > cycle.length ? `\n  (one loop among ${folders.length} folders that all reach each other: ${folders.join(', ')})` : '';
    violations.push({ rule: 'cycle', message: `folder cycle ${[...cycle, cycle[0]].join(' -> ')}\n${steps.join('\n')}${tangle}` });
  }
  return violations;
}

/** A tangle of folders that all reach each other, and one loop through it. */
export interface FolderCycle {
  /** The loop, folders in order (the last imports the first). */
  readonly cycle: readonly string[];
  /** Every folder of the tangle, sorted. */
  readonly folders: readonly string[];
}

/**
 * One cycle through each strongly connected component of more than one folder (Tarjan):
 * enough to show where the layers loop, and no more than one message per tangle.
 */
export function findCycles(graph: ReadonlyMap<string, ReadonlyMap<string, unknown>>): FolderCycle[] {
  const nodes = new Set<string>();
  for (const [from, targets] of graph) {
    nodes.add(from);
    for (const to of targets.keys()) nodes.add(to);
  }
  const successors = (n: string) => [...(graph.get(n)?.keys() ?? [])];
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of successors(v)) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component);
    }
  };
  for (const n of [...nodes].sort()) if (!index.has(n)) connect(n);

  return components.map((component) => ({ cycle: loopThrough(component), folders: [...component].sort() }));

  /** The shortest way from the component's first folder back to itself (breadth first). */
  function loopThrough(component: readonly string[]): string[] {
    const members = new Set(component);
    const start = [...component].sort()[0] as string;
    const previous = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const v = queue.shift() as string;
      for (const w of successors(v).sort()) {
        if (!members.has(w)) continue;
        if (w === start) {
          const path = [v];
          while (path[0] !== start) path.unshift(previous.get(path[0] as string) as string);
          return path;
        }
        if (!previous.has(w)) {
          previous.set(w, v);
          queue.push(w);
        }
      }
    }
    return [...component]; // unreachable: a component of two or more folders has a cycle through each
  }
}

/**
 * The layer diagram of docs/architecture.md, drawn from {@link LAYERS} (top layer first,
 * an arrow for "imports"), so that the page and the test cannot disagree.
 */
export function layersToMermaid(layers: readonly Layer[]): string {
  const label = (folder: string) => (folder === SHARED ? 'src/*.ts' : folder === 'src/index' ? 'src/index.ts' : `${folder}/`);
  const lines = ['```mermaid', 'flowchart TD'];
  const top = layers.length - 1;
  for (let i = top; i >= 0; i--) {
    const layer = layers[i] as Layer;
    lines.push(`  L${i}["<b>${layer.name}</b><br/>${layer.folders.map(label).join(' · ')}"]`);
  }
  for (let i = top; i > 0; i--) lines.push(`  L${i} --> L${i - 1}`);
  lines.push('```');
  return lines.join('\n');
}
