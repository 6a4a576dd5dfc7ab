/**
 * Ids and capability names that hold the characters keys used to be joined with (`,`, `|`,
 * `\u0000`) or look like a length prefix (`1:a`). Keys built by joining such strings with a
 * separator made different tuples meet: a task that needs the capability `a,b` ran on an
 * agent that has only `a` and `b`, a task depending on `'a\u0000b'` was given the
 * dependencies `['a', 'b']`, and a submission took a capability no agent has for one it has.
 * Keys are now written by `compositeKey`, which no two tuples share.
 */
import fc from 'fast-check';
import { produce } from 'immer';
import {
  createNeuroFlux,
  detectPatterns,
  diagnoseStall,
  initialSwarmState,
  learnFromConsensus,
  verifyWorkflow,
  WorkflowValidationError,
  type NeuroFlux,
  type TaskInput,
} from '../../src';
import { compositeKey } from '../../src/compositeKey';
import { cleanupAfterEach } from '../support/cleanup';

const cleanup = cleanupAfterEach();

async function runtimeWith(agents: Record<string, readonly string[]>, ran: string[]): Promise<NeuroFlux> {
  const nf = createNeuroFlux();
  cleanup.add(nf);
  for (const [agentId, capabilities] of Object.entries(agents)) {
    nf.orchestrator.registerAgent(agentId, { capabilities: [...capabilities], maxConcurrentTasks: 5, execute: (task) => void ran.push(`${task.taskId} on ${agentId}`) });
  }
  await nf.start();
  return nf;
}

async function runOneByOne(nf: NeuroFlux, tasks: readonly TaskInput[]): Promise<void> {
  for (const task of tasks) await nf.orchestrator.waitForWorkflow(nf.orchestrator.submitWorkflow({ tasks: [task] }).map((s) => s.taskId));
}

describe('separators inside ids and capability names', () => {
  it('a task that needs the capability "a,b" runs on the agent that has it, not on one with "a" and "b"', async () => {
    const ran: string[] = [];
    const nf = await runtimeWith({ both: ['a', 'b'], comma: ['a,b'] }, ran);
    await runOneByOne(nf, [
      { taskId: 'needs a and b', requiredCapabilities: ['a', 'b'] },
      { taskId: 'needs a,b', requiredCapabilities: ['a,b'] },
    ]);
    expect(ran).toEqual(['needs a and b on both', 'needs a,b on comma']);
  });

  it('a task type with "|" and a capability with "|" do not share a pool', async () => {
    const ran: string[] = [];
    const nf = await runtimeWith({ plain: [], piped: ['t|'] }, ran);
    await runOneByOne(nf, [
      { taskId: 'typed x|t', taskType: 'x|t' },
      { taskId: 'typed x, needs t|', taskType: 'x', requiredCapabilities: ['t|'] },
    ]);
    expect(ran).toEqual(['typed x|t on plain', 'typed x, needs t| on piped']);
  });

  it('dependencies and capabilities that join alike are each kept as given', async () => {
    const ran: string[] = [];
    const nf = await runtimeWith({ w: ['a', 'b', 'a\u0000b'] }, ran);
    nf.orchestrator.submitWorkflow({
      tasks: [
        { taskId: 'x', requiredCapabilities: ['a', 'b'] },
        { taskId: 'y', requiredCapabilities: ['a\u0000b'] },
        { taskId: 'a' },
        { taskId: 'b' },
        { taskId: 'a\u0000b' },
        { taskId: 'p', dependencies: ['a', 'b'] },
        { taskId: 'q', dependencies: ['a\u0000b'] },
      ],
    });
    expect(nf.orchestrator.getTask('x')?.requiredCapabilities).toEqual(['a', 'b']);
    expect(nf.orchestrator.getTask('y')?.requiredCapabilities).toEqual(['a\u0000b']);
    expect(nf.orchestrator.getTask('p')?.dependencies).toEqual(['a', 'b']);
    expect(nf.orchestrator.getTask('q')?.dependencies).toEqual(['a\u0000b']);
    const records = await nf.orchestrator.waitForWorkflow(['x', 'y', 'a', 'b', 'a\u0000b', 'p', 'q']);
    expect(records.map((r) => r.status)).toEqual(Array(7).fill('completed'));
  });

  it('a submission refuses a capability no agent has even after one that joins alike', async () => {
    const nf = await runtimeWith({ both: ['a', 'b'] }, []);
    let error: unknown;
    try {
      nf.orchestrator.submitWorkflow({
        tasks: [
          { taskId: 'fine', requiredCapabilities: ['a', 'b'] },
          { taskId: 'unservable', requiredCapabilities: ['a\u0000b'] },
        ],
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(WorkflowValidationError);
    expect((error as WorkflowValidationError).problems).toEqual([expect.objectContaining({ kind: 'no_capable_agent', taskIds: ['unservable'] })]);
  });

  it('a stall diagnosis tells each blocked task what it misses', async () => {
    const nf = await runtimeWith({ other: ['c'] }, []);
    nf.orchestrator.submitWorkflow(
      {
        tasks: [
          { taskId: 'x', requiredCapabilities: ['a', 'b'] },
          { taskId: 'y', requiredCapabilities: ['a\u0000b'] },
        ],
      },
      { requireCapableAgents: false },
    );
    const { blocked } = diagnoseStall(nf.orchestrator.progressState());
    expect(Object.fromEntries(blocked.map((task) => [task.taskId, task.missingCapabilities]))).toEqual({ x: ['a', 'b'], y: ['a\u0000b'] });
  });

  it('the verifier finds the task no agent can run among tasks whose capabilities join alike', () => {
    const result = verifyWorkflow({
      tasks: [
        { taskId: 'x', requiredCapabilities: ['a', 'b'] },
        { taskId: 'y', requiredCapabilities: ['a\u0000b'] },
      ],
      agents: [{ agentId: 'both', capabilities: ['a', 'b'] }],
    });
    expect(result.violations.find((v) => v.property === 'capability_coverage')).toMatchObject({ taskIds: ['y'] });
    expect(result.violations.find((v) => v.property === 'deadlock')?.message).toContain("'y'");
  });

  it("the swarm counts the voters 'a|b' and 'c' apart from 'a' and 'b|c'", () => {
    const state = produce(initialSwarmState({ networkId: 'n', seed: 1 }), (draft) => {
      for (let i = 0; i < 4; i++) {
        const voters = (x: string, y: string, right: boolean) => [
          { agentId: x, decision: 'GO', correct: right },
          { agentId: y, decision: right ? 'GO' : 'WAIT', correct: right },
        ];
        learnFromConsensus(draft, { conflictId: `right${i}`, conflictType: 'strategy_conflict', voters: voters('a|b', 'c', true) }, i);
        learnFromConsensus(draft, { conflictId: `wrong${i}`, conflictType: 'strategy_conflict', voters: voters('a', 'b|c', false) }, i);
      }
    });
    const together = detectPatterns(state, 10).filter((pattern) => pattern.type === 'successful_consensus');
    expect(together.map((pattern) => [pattern.involvedAgents, pattern.confidence])).toEqual([[['a|b', 'c'], 1]]);
  });

  it("a pattern lists the pairs 'a|b'–'c' and 'a'–'b|c' apart", () => {
    const agents = ['a|b', 'c', 'a', 'b|c'];
    const state = produce(initialSwarmState({ networkId: 'n', seed: 1 }), (draft) => {
      for (let i = 0; i < 4; i++) {
        const voters = agents.map((agentId) => ({ agentId, decision: 'GO', correct: true }));
        learnFromConsensus(draft, { conflictId: `c${i}`, conflictType: 'strategy_conflict', voters }, i);
      }
    });
    const [pattern] = detectPatterns(state, 10).filter((p) => p.type === 'successful_consensus');
    expect(pattern?.involvedAgents).toEqual(agents);
    // Every two of the four voters: six pairs.
    expect(pattern?.pairs.map((pair) => pair.agents)).toEqual([
      ['a|b', 'c'],
      ['a|b', 'a'],
      ['a|b', 'b|c'],
      ['c', 'a'],
      ['c', 'b|c'],
      ['a', 'b|c'],
    ]);
  });

  it('compositeKey gives different keys to different tuples, nested ones too', () => {
    const part = fc.string({ unit: fc.constantFrom('a', 'b', ',', '|', ':', '1', '2', '\u0000', '') });
    fc.assert(
      fc.property(fc.array(part, { maxLength: 4 }), fc.array(part, { maxLength: 4 }), (a, b) => {
        expect(compositeKey(a) === compositeKey(b)).toBe(JSON.stringify(a) === JSON.stringify(b));
        expect(compositeKey(['x', compositeKey(a)]) === compositeKey(['x', compositeKey(b)])).toBe(JSON.stringify(a) === JSON.stringify(b));
      }),
      { numRuns: 2000 },
    );
  });
});
