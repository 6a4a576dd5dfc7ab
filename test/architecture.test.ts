/**
 * One-way layers (issue #16): the folders of `src/` and `machines/` import each other along
 * the layers of docs/architecture.md and never in a loop; machines import only xstate,
 * immer and `src/*\/model/`; the kernel imports no domain folder; a model module imports
 * only model code. Type-only imports count: they are erased at run time, but a type from a
 * higher layer still ties the lower one to it (it cannot be compiled, read or moved alone).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectImports, readSourceFiles, REPOSITORY_ROOT, type ImportEdge, type SourceFile } from './support/importGraph';
import { findAmbientEffects } from './support/ambientEffects';
import { checkArchitecture, findCycles, folderOf, isModelFolder, LAYERS, layerOf, layersToMermaid, type Violation } from './support/layerRules';

const report = (violations: readonly Violation[]) => violations.map((v) => `[${v.rule}] ${v.message}`).join('\n');

describe('the source keeps its layers', () => {
  const files = readSourceFiles(REPOSITORY_ROOT, ['src', 'machines']);
  const { edges, unresolved } = collectImports(files);

  it('reads the whole source', () => {
    // A walk that found nothing would pass every rule below.
    expect(files.length).toBeGreaterThan(200);
    expect(files.some((f) => f.path === 'machines/agent.machine.ts')).toBe(true);
    expect(edges.filter((e) => !e.toPackage).length).toBeGreaterThan(500);
    expect(unresolved).toEqual([]);
  });

  it('every folder has a layer, imports go down the layers, and no folders import each other in a loop', () => {
    expect(report(checkArchitecture({ layers: LAYERS, edges }))).toBe('');
  });

  it('machines import only xstate, immer and model modules (checked on the real imports)', () => {
    const machineImports = edges.filter((e) => folderOf(e.from) === 'machines');
    expect(machineImports.length).toBeGreaterThan(10);
    for (const e of machineImports) {
      const target = e.toPackage ? e.to : folderOf(e.to);
      expect([e.from, target]).toEqual([e.from, expect.stringMatching(/^(xstate|immer|machines|src\/[^/]+\/model)$/)]);
    }
  });

  it('machines and model modules reach no timer, clock, randomness, process or console except through what is injected', () => {
    const pure = files.filter((f) => {
      const folder = folderOf(f.path);
      return folder === 'machines' || (folder !== undefined && isModelFolder(folder));
    });
    expect(pure.length).toBeGreaterThan(30);
    expect(pure.flatMap(findAmbientEffects).map((e) => `${e.path}:${e.line} uses ${e.name}`)).toEqual([]);
  });
});

/** A synthetic graph: `[fromFile, toFileOrPackage, typeOnly?]`. */
function edgesOf(...list: [string, string, boolean?][]): ImportEdge[] {
  return list.map(([from, to, typeOnly]) => ({ from, to, toPackage: !to.endsWith('.ts'), typeOnly: typeOnly ?? false, line: 1 }));
}
const rulesOf = (edges: ImportEdge[]) => checkArchitecture({ layers: LAYERS, edges }).map((v) => v.rule);

describe('the checker', () => {
  it('maps files to folder nodes: model folders and the shared base are nodes of their own', () => {
    expect(folderOf('src/swarm/model/swarmState.ts')).toBe('src/swarm/model');
    expect(folderOf('src/swarm/neuralSwarmNetwork.ts')).toBe('src/swarm');
    expect(folderOf('src/orchestration/planning/readyOrder.ts')).toBe('src/orchestration/planning');
    expect(layerOf(LAYERS, 'src/orchestration/planning')).toBe(layerOf(LAYERS, 'src/swarm/model'));
    expect(folderOf('src/observability/inspector/page/dom.ts')).toBe('src/observability');
    expect(folderOf('src/errors.ts')).toBe('src/(shared)');
    expect(folderOf('src/index.ts')).toBe('src/index');
    expect(folderOf('machines/task.machine.ts')).toBe('machines');
    expect(folderOf('test/bus.test.ts')).toBeUndefined();
    expect(layerOf(LAYERS, 'src/bus/model')).toBe(layerOf(LAYERS, 'src/swarm/model'));
  });

  it('accepts a graph that goes down the layers', () => {
    const edges = edgesOf(
      ['machines/swarm.machine.ts', 'src/swarm/model/swarmState.ts'],
      ['machines/swarm.machine.ts', 'xstate'],
      ['src/swarm/model/swarmState.ts', 'src/idRecord.ts'],
      ['src/swarm/model/knowledgeSharing.ts', 'src/bus/model/message.ts', true],
      ['src/swarm/model/swarmState.ts', 'immer'],
      ['src/kernel/runtimeRoot.ts', 'machines/runtime.machine.ts'],
      ['src/bus/communicationBus.ts', 'src/kernel/clock.ts'],
      ['src/cli/main.ts', 'src/runtime/createNeuroFlux.ts'],
    );
    expect(checkArchitecture({ layers: LAYERS, edges })).toEqual([]);
  });

  it('finds a folder cycle, type-only imports included, and prints it with the imports that close it', () => {
    const edges = edgesOf(['src/bus/communicationBus.ts', 'src/transport/transport.ts', true], ['src/transport/natsTransport.ts', 'src/bus/message.ts']);
    const violations = checkArchitecture({ layers: LAYERS, edges });
    const cycle = violations.find((v) => v.rule === 'cycle');
    expect(cycle?.message).toContain('folder cycle src/bus -> src/transport -> src/bus');
    expect(cycle?.message).toContain('src/bus/communicationBus.ts:1 imports src/transport/transport.ts (type-only)');
    expect(cycle?.message).toContain('src/transport/natsTransport.ts:1 imports src/bus/message.ts');
    // The upward half is also a layer violation; the downward half is not.
    expect(violations.filter((v) => v.rule === 'layer').map((v) => v.message)).toEqual([
      expect.stringContaining('src/bus/communicationBus.ts:1 imports src/transport/transport.ts'),
    ]);
  });

  it('finds a cycle of three folders inside one peer layer, once', () => {
    const edges = edgesOf(
      ['src/a/model/x.ts', 'src/b/model/y.ts'],
      ['src/b/model/y.ts', 'src/c/model/z.ts'],
      ['src/c/model/z.ts', 'src/a/model/x.ts'],
      ['src/c/model/z.ts', 'src/b/model/y.ts'],
    );
    const cycles = checkArchitecture({ layers: LAYERS, edges }).filter((v) => v.rule === 'cycle');
    expect(cycles).toHaveLength(1);
    expect(cycles[0]?.message.split('\n')[0]).toBe('folder cycle src/a/model -> src/b/model -> src/c/model -> src/a/model');
    // A tangle wider than the loop shown is named whole.
    const wider = edgesOf(
      ['src/a/model/x.ts', 'src/b/model/y.ts'],
      ['src/b/model/y.ts', 'src/a/model/x.ts'],
      ['src/b/model/y.ts', 'src/c/model/z.ts'],
      ['src/c/model/z.ts', 'src/b/model/y.ts'],
    );
    const message = checkArchitecture({ layers: LAYERS, edges: wider }).find((v) => v.rule === 'cycle')?.message;
    expect(message).toContain('folder cycle src/a/model -> src/b/model -> src/a/model');
    expect(message).toContain('one loop among 3 folders that all reach each other: src/a/model, src/b/model, src/c/model');
  });

  it('findCycles sees nothing in a DAG and every tangle of a cyclic graph', () => {
    const graph = (pairs: [string, string][]) => {
      const g = new Map<string, Map<string, true>>();
      for (const [a, b] of pairs) g.set(a, (g.get(a) ?? new Map<string, true>()).set(b, true));
      return g;
    };
    expect(
      findCycles(
        graph([
          ['a', 'b'],
          ['b', 'c'],
          ['a', 'c'],
        ]),
      ),
    ).toEqual([]);
    const cycles = findCycles(
      graph([
        ['a', 'b'],
        ['b', 'a'],
        ['c', 'd'],
        ['d', 'e'],
        ['e', 'c'],
        ['e', 'a'],
      ]),
    );
    expect(cycles.map((c) => [...c.cycle].sort().join())).toEqual(expect.arrayContaining(['a,b', 'c,d,e']));
    expect(cycles).toHaveLength(2);
  });

  it('refuses a machine that imports domain code, another package, or the shared base', () => {
    expect(rulesOf(edgesOf(['machines/conflict.machine.ts', 'src/conflict/strategies.ts']))).toContain('machines');
    expect(rulesOf(edgesOf(['machines/agent.machine.ts', 'src/bus/message.ts', true]))).toContain('machines');
    expect(rulesOf(edgesOf(['machines/agent.machine.ts', 'rxjs']))).toEqual(['machines']);
    expect(rulesOf(edgesOf(['machines/agent.machine.ts', 'node:crypto']))).toEqual(['machines']);
    expect(rulesOf(edgesOf(['machines/agent.machine.ts', 'src/errors.ts']))).toEqual(['machines']);
  });

  it('refuses a kernel that imports a domain folder (a model one too), but not machines', () => {
    expect(rulesOf(edgesOf(['src/kernel/leaderElection.ts', 'src/store/lease.ts']))).toEqual(['kernel', 'layer']);
    expect(rulesOf(edgesOf(['src/kernel/runtimeLogger.ts', 'src/observability/tracing/traceContext.ts', true]))).toContain('kernel');
    expect(rulesOf(edgesOf(['src/kernel/x.ts', 'src/scaling/model/capacityPlan.ts']))).toContain('kernel');
    expect(rulesOf(edgesOf(['src/kernel/runtimeRoot.ts', 'machines/runtime.machine.ts']))).toEqual([]);
  });

  it('refuses a model module that imports non-model code or an impure package', () => {
    expect(rulesOf(edgesOf(['src/swarm/model/neuron.ts', 'src/swarm/neuralSwarmNetwork.ts']))).toEqual(['model', 'layer']);
    expect(rulesOf(edgesOf(['src/bus/model/message.ts', 'src/kernel/clock.ts', true]))).toEqual(['model', 'layer']);
    expect(rulesOf(edgesOf(['src/bus/model/message.ts', 'node:crypto']))).toEqual(['model']);
    expect(rulesOf(edgesOf(['src/swarm/model/x.ts', 'rxjs']))).toEqual(['model']);
    expect(rulesOf(edgesOf(['src/swarm/model/x.ts', 'zod']))).toEqual([]);
    expect(rulesOf(edgesOf(['src/orchestration/planning/readyOrder.ts', 'src/orchestration/taskTypes.ts', true]))).toEqual(['model', 'layer']);
  });

  it('refuses an import up the layers, between two folders of one layer, and a folder in no layer', () => {
    expect(rulesOf(edgesOf(['src/bus/x.ts', 'src/orchestration/taskTypes.ts', true]))).toEqual(['layer']);
    expect(rulesOf(edgesOf(['src/conflict/x.ts', 'src/swarm/y.ts']))).toEqual(['layer']);
    expect(rulesOf(edgesOf(['src/runtime/x.ts', 'src/cli/main.ts']))).toEqual(['layer']);
    expect(rulesOf(edgesOf(['src/newThing/x.ts', 'src/bus/message.ts'], ['src/newThing/y.ts', 'src/kernel/clock.ts']))).toEqual(['unplaced']);
  });

  it("refuses the package's own name anywhere in the source (a way around every file rule)", () => {
    expect(rulesOf(edgesOf(['src/kernel/logger.ts', 'neuroflux', true]))).toEqual(['self']);
    expect(rulesOf(edgesOf(['src/bus/communicationBus.ts', 'neuroflux']))).toEqual(['self']);
    expect(rulesOf(edgesOf(['machines/task.machine.ts', 'neuroflux']))).toEqual(['machines', 'self']);
    expect(rulesOf(edgesOf(['src/swarm/model/x.ts', 'neuroflux', true]))).toEqual(['model', 'self']);
    // Not a prefix match: another package whose name starts the same is just a package.
    expect(rulesOf(edgesOf(['src/bus/communicationBus.ts', 'neuroflux-extras']))).toEqual([]);
  });

  it('refuses a package other than zod in the shared base src/*.ts', () => {
    expect(rulesOf(edgesOf(['src/errors.ts', 'zod', true]))).toEqual([]);
    expect(rulesOf(edgesOf(['src/jsonValue.ts', 'rxjs']))).toEqual(['shared']);
    expect(rulesOf(edgesOf(['src/describeError.ts', 'node:util']))).toEqual(['shared']);
    expect(rulesOf(edgesOf(['src/idRecord.ts', 'xstate', true]))).toEqual(['shared']);
    // src/index.ts is the entry point, not the shared base.
    expect(rulesOf(edgesOf(['src/index.ts', 'xstate']))).toEqual([]);
  });

  it('catches each import planted by review RA (/tmp/nf/RA/arch-mutations.patch), read from source text', () => {
    const planted = (path: string, lines: string[]) => {
      const stubs = [
        'src/bus/message.ts',
        'src/describeError.ts',
        'src/index.ts',
        'src/transport/natsClient.ts',
        'machines/task.machine.ts',
        'src/kernel/clock.ts',
        'src/kernel/logger.ts',
        'src/bus/deliveryLoop.ts',
        'src/swarm/model/adaptation.ts',
      ];
      const files = stubs.map((p): SourceFile => ({ path: p, text: p === path ? lines.join('\n') : '' }));
      return checkArchitecture({ layers: LAYERS, edges: collectImports(files).edges }).map((v) => v.rule);
    };
    // A: the kernel importing a domain type.
    expect(planted('src/kernel/clock.ts', ["import type { Message } from '../bus/message';", 'export type RaMutationA = Message;'])).toEqual(['kernel', 'layer']);
    // B: a machine importing the shared base.
    expect(planted('machines/task.machine.ts', ["import { assign, setup } from 'xstate';", "import { describeError as raMutationB } from '../src/describeError';"])).toEqual([
      'machines',
    ]);
    // C: the bus importing the entry point (type-only).
    expect(planted('src/bus/deliveryLoop.ts', ["import type { NeuroFlux as RaC } from '../index';", 'export type RaMutationC = RaC;'])).toEqual(['layer']);
    // D: the kernel importing the package by its own name (missed before).
    expect(planted('src/kernel/logger.ts', ["import type { NeuroFlux as RaD } from 'neuroflux';", 'export type RaMutationD = RaD;'])).toEqual(['self']);
    expect(planted('src/kernel/logger.ts', ["import { nats } from 'neuroflux/nats';"])).toEqual(['self']);
    // E: a model module requiring the transport.
    expect(planted('src/swarm/model/adaptation.ts', ['// eslint-disable-next-line', "export const raMutationE = () => require('../../transport/natsClient');"])).toEqual([
      'model',
      'layer',
    ]);
  });
});

describe('the import reader', () => {
  const read = (sources: Record<string, string>) => collectImports(Object.entries(sources).map(([path, text]): SourceFile => ({ path, text })));

  it('reads every form of import, flags type-only ones, and is not fooled by comments or strings', () => {
    const { edges, unresolved } = read({
      'src/a/x.ts': [
        "import { z } from 'zod';",
        "import type { T } from '../b/t';",
        "import { type U, type V } from '../b/u';",
        "import { type W, w } from '../b/w';",
        "export { e } from '../c/e';",
        "export type { F } from '../c/f';",
        "import g = require('../c/g');",
        "const h = () => import('../d/h');",
        "const i = require('@scope/pkg/deep');",
        "type J = import('../d/j').J;",
        "// import { k } from '../e/k';",
        'const text = "import { l } from \'../e/l\'";',
        "import '../d/sideEffect';",
        "import { m } from '../d/missing';",
      ].join('\n'),
      'src/b/t.ts': '',
      'src/b/u.ts': '',
      'src/b/w.ts': '',
      'src/c/e.ts': '',
      'src/c/f.ts': '',
      'src/c/g.ts': '',
      'src/d/h/index.ts': '',
      'src/d/j.ts': '',
      'src/d/sideEffect.ts': '',
      'src/e/k.ts': '',
      'src/e/l.ts': '',
    });
    const seen = edges.map((e) => `${e.to}${e.typeOnly ? ' type' : ''} @${e.line}`);
    expect(seen).toEqual([
      'zod @1',
      'src/b/t.ts type @2',
      'src/b/u.ts type @3',
      'src/b/w.ts @4',
      'src/c/e.ts @5',
      'src/c/f.ts type @6',
      'src/c/g.ts @7',
      'src/d/h/index.ts @8',
      '@scope/pkg @9',
      'src/d/j.ts type @10',
      'src/d/sideEffect.ts @13',
    ]);
    expect(unresolved.map((e) => e.to)).toEqual(['../d/missing']);
  });

  it('resolves ES-module style `.js` specifiers (the inspector page) to their `.ts` files', () => {
    const { edges } = read({ 'src/o/page/app.ts': "import { el } from './dom.js';", 'src/o/page/dom.ts': '' });
    expect(edges.map((e) => e.to)).toEqual(['src/o/page/dom.ts']);
  });
});

describe('the ambient effect finder', () => {
  it('finds timers, the clock, randomness and the process used as values, not names that only look like them', () => {
    const text = [
      'const a = Date.now();',
      'const b = Math.random();',
      'setTimeout(() => undefined, 1);',
      'const c = process.env.X;',
      'const d = new Date();',
      'type E = { at: Date; setTimeout: number };',
      'const f = { process: 1, console: 2 };',
      'function g(random: () => number, fetch: number) { return random() + fetch; }',
      'const h = options.performance;',
      '// setInterval(x) in a comment',
      "const i = 'console.log(1)';",
      'const j = { console };',
      'const k = globalThis.structuredClone;',
    ].join('\n');
    expect(findAmbientEffects({ path: 'machines/x.machine.ts', text }).map((e) => `${e.line}:${e.name}`)).toEqual([
      '1:Date',
      '2:Math.random',
      '3:setTimeout',
      '4:process',
      '5:Date',
      '12:console',
      '13:globalThis',
    ]);
    // A name the file declares is its own, not the global.
    expect(findAmbientEffects({ path: 'src/a/model/x.ts', text: 'const performance = 1;\nexport const p = performance + 1;' })).toEqual([]);
  });
});

describe('docs/architecture.md', () => {
  it('draws the layers the test checks', () => {
    const page = readFileSync(join(REPOSITORY_ROOT, 'docs', 'architecture.md'), 'utf8');
    const start = page.indexOf('<!-- layers -->');
    const end = page.indexOf('<!-- /layers -->');
    expect(start).toBeGreaterThan(-1);
    expect(page.slice(start + '<!-- layers -->'.length, end).trim()).toBe(layersToMermaid(LAYERS));
  });
});
