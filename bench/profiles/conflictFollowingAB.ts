/**
 * Paired A/B of the conflict engine's CPU cost per conflict, two source trees in one process
 * (the figures in docs/conflicts.md "What a conflict's actor announces" come from this).
 *
 *   git archive <commit> src machines | tar -x -C /tmp/before
 *   ln -s "$PWD/node_modules" /tmp/before/node_modules
 *   node --expose-gc -r @swc-node/register bench/profiles/conflictFollowingAB.ts /tmp/before [afterTree]
 *
 * `afterTree` defaults to this checkout. Each round resolves CONFLICTS_PER_ROUND conflicts
 * (three vote functions each, the third async) on A and on B, in alternating order, and an
 * A/A control (B against B again, same order rules): CPU time from `process.cpuUsage()`
 * (user + system), a GC before each half. Prints the median and range of after/before and
 * of the A/A ratio over ROUNDS rounds (default 11), and the CPU per conflict of each side.
 * Not a top-level bench: bench/run.ts runs every top-level bench/*.ts, and this one needs a
 * second tree.
 */
import { resolve } from 'node:path';
import { SimulatedClock } from 'xstate';

interface Tree {
  readonly name: string;
  readonly CommunicationBus: new (options: { clock: SimulatedClock }) => { start(): Promise<void>; stop(): Promise<void> };
  readonly ConflictResolutionEngine: new (options: { bus: unknown }) => {
    registerVoter(agentId: string, vote: () => unknown): void;
    resolveConflict(conflict: unknown): Promise<unknown>;
    stop(): Promise<void>;
  };
}

const ROUNDS = Number(process.env.ROUNDS ?? 11);
const CONFLICTS_PER_ROUND = Number(process.env.CONFLICTS_PER_ROUND ?? 300);

function load(name: string, root: string): Tree {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a tree chosen at run time
  const bus = require(resolve(root, 'src/bus/communicationBus')) as Pick<Tree, 'CommunicationBus'>;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a tree chosen at run time
  const conflict = require(resolve(root, 'src/conflict')) as Pick<Tree, 'ConflictResolutionEngine'>;
  return { name, CommunicationBus: bus.CommunicationBus, ConflictResolutionEngine: conflict.ConflictResolutionEngine };
}

/** CPU microseconds to resolve `CONFLICTS_PER_ROUND` conflicts on one tree. */
async function cpuOf(tree: Tree): Promise<number> {
  const clock = new SimulatedClock();
  const bus = new tree.CommunicationBus({ clock });
  await bus.start();
  const engine = new tree.ConflictResolutionEngine({ bus });
  engine.registerVoter('a', () => ({ decision: 'BUY', confidence: 0.9, reasoning: '' }));
  engine.registerVoter('b', () => ({ decision: 'BUY', confidence: 0.8, reasoning: '' }));
  engine.registerVoter('c', async () => ({ decision: 'SELL', confidence: 0.6, reasoning: '' }));
  (globalThis as { gc?: () => void }).gc?.();
  const start = process.cpuUsage();
  for (let i = 0; i < CONFLICTS_PER_ROUND; i++) {
    await engine.resolveConflict({ conflictType: 'signal_conflict', involvedAgents: ['a', 'b', 'c'], severity: 0.6, options: ['BUY', 'SELL'] });
  }
  const used = process.cpuUsage(start);
  await engine.stop();
  await bus.stop();
  return used.user + used.system;
}

function summary(values: number[]): string {
  const sorted = [...values].sort((x, y) => x - y);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  return `median ${median.toFixed(3)} (range ${(sorted[0] as number).toFixed(3)}-${(sorted[sorted.length - 1] as number).toFixed(3)})`;
}

async function main(): Promise<void> {
  const [beforeRoot, afterRoot = resolve(__dirname, '../..')] = process.argv.slice(2);
  if (!beforeRoot) throw new Error('usage: conflictFollowingAB.ts <beforeTree> [afterTree]');
  const before = load('before', beforeRoot);
  const after = load('after', afterRoot);
  // Warm both trees (JIT, module init) before measuring.
  await cpuOf(before);
  await cpuOf(after);
  const ratios: number[] = [];
  const controls: number[] = [];
  const perConflict = { before: [] as number[], after: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [before, after] : [after, before];
    const cpu = new Map<string, number>();
    for (const tree of order) cpu.set(tree.name, await cpuOf(tree));
    const first = await cpuOf(after);
    const second = await cpuOf(after);
    const b = cpu.get('before') as number;
    const a = cpu.get('after') as number;
    ratios.push(a / b);
    controls.push(round % 2 === 0 ? second / first : first / second);
    perConflict.before.push(b / CONFLICTS_PER_ROUND / 1000);
    perConflict.after.push(a / CONFLICTS_PER_ROUND / 1000);
  }
  console.log(`${ROUNDS} rounds of ${CONFLICTS_PER_ROUND} conflicts, CPU time (user + system)`);
  console.log(`after/before: ${summary(ratios)}`);
  console.log(`A/A control:  ${summary(controls)}`);
  console.log(`ms per conflict: before ${summary(perConflict.before)}, after ${summary(perConflict.after)}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
