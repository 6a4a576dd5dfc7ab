import fc from 'fast-check';
import { SimulatedClock } from 'xstate';
import { createNeuroFlux } from '../src';
import { ValidationError } from '../src/errors';
import { TaskOutcomesSchema } from '../src/swarm/model/swarmSchemas';
import { findConnection, neuronOf } from '../src/swarm/model/swarmState';
import { MAX_HELD_OUTCOME_CHARS, NeuralSwarmNetwork } from '../src/swarm/neuralSwarmNetwork';

/** A scheduler the test runs by hand: each call is one event-loop turn's end. */
function manualTurns(): { schedule: (flush: () => void) => void; endTurn: () => void; pending: () => number } {
  let queued: (() => void)[] = [];
  return {
    schedule: (flush) => void queued.push(flush),
    endTurn: () => {
      const run = queued;
      queued = [];
      for (const flush of run) flush();
    },
    pending: () => queued.length,
  };
}

const learned = (swarm: NeuralSwarmNetwork) => swarm.actor.getSnapshot().context.counters.tasksCompleted;

describe('held task outcomes reach the actor within one event-loop turn', () => {
  test('one flush is scheduled per turn; at its end the actor has learned every outcome, and a direct send after it is ordered', () => {
    const turns = manualTurns();
    const swarm = new NeuralSwarmNetwork({ networkId: 'turn', seed: 1, scheduleOutcomeFlush: turns.schedule });
    swarm.recordTaskOutcomes([{ outcome: { taskId: 't0', agentId: 'c', producerAgentIds: ['p'] }, success: true }]);
    swarm.recordTaskOutcomes([{ outcome: { taskId: 't1', agentId: 'c', producerAgentIds: ['p'] }, success: true }]);
    expect(turns.pending()).toBe(1);
    expect(learned(swarm)).toBe(0);
    turns.endTurn();
    expect(learned(swarm)).toBe(2);
    // The turn is over: a direct send comes after what it recorded (the agent stays removed).
    swarm.actor.send({ type: 'AGENT_REMOVED', agentId: 'c' });
    const context = swarm.actor.getSnapshot().context;
    expect(neuronOf(context, 'c')).toBeUndefined();
    expect(findConnection(context, 'p', 'c')).toBeUndefined();
    // The next turn schedules its own flush.
    swarm.recordTaskOutcomes([{ outcome: { taskId: 't2', agentId: 'd', producerAgentIds: [] }, success: true }]);
    expect(turns.pending()).toBe(1);
    turns.endTurn();
    expect(learned(swarm)).toBe(3);
    void swarm.stop();
  });

  test('a read that flushed early leaves the scheduled flush for what is recorded after it in the same turn', () => {
    const turns = manualTurns();
    const swarm = new NeuralSwarmNetwork({ networkId: 'early', seed: 1, scheduleOutcomeFlush: turns.schedule });
    swarm.recordTaskOutcomes([{ outcome: { taskId: 't0', agentId: 'c', producerAgentIds: [] }, success: true }]);
    expect(swarm.getNetworkState().counters.tasksCompleted).toBe(1);
    swarm.recordTaskOutcomes([{ outcome: { taskId: 't1', agentId: 'c', producerAgentIds: [] }, success: false }]);
    expect(turns.pending()).toBe(1);
    turns.endTurn();
    expect(swarm.actor.getSnapshot().context.counters).toMatchObject({ tasksCompleted: 1, tasksFailed: 1 });
    void swarm.stop();
  });

  test('by default the flush runs on setImmediate: subscribers see the outcomes once the turn ends', async () => {
    const swarm = new NeuralSwarmNetwork({ networkId: 'immediate', seed: 1 });
    const seen: number[] = [];
    swarm.actor.subscribe((snapshot) => seen.push(snapshot.context.counters.tasksCompleted));
    swarm.recordTaskOutcomes([{ outcome: { taskId: 't0', agentId: 'c', producerAgentIds: ['p'] }, success: true }]);
    // Immediates run in the order they were queued: this one runs after the swarm's.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(seen.at(-1)).toBe(1);
    await swarm.stop();
  });

  test('held outcomes whose ids pass MAX_HELD_OUTCOME_CHARS are sent at once', () => {
    const turns = manualTurns();
    const swarm = new NeuralSwarmNetwork({ networkId: 'chars', seed: 1, scheduleOutcomeFlush: turns.schedule });
    swarm.recordTaskOutcomes([{ outcome: { taskId: 'x'.repeat(MAX_HELD_OUTCOME_CHARS / 2), agentId: 'c', producerAgentIds: [] }, success: true }]);
    expect(learned(swarm)).toBe(0);
    swarm.recordTaskOutcomes([{ outcome: { taskId: 'y'.repeat(MAX_HELD_OUTCOME_CHARS / 2), agentId: 'c', producerAgentIds: [] }, success: true }]);
    expect(learned(swarm)).toBe(2);
    void swarm.stop();
  });

  test("the runtime's stop gives the swarm actor every outcome, with no turn ended and no facade read", async () => {
    const turns = manualTurns();
    const nf = createNeuroFlux({ clock: new SimulatedClock(), swarm: { scheduleOutcomeFlush: turns.schedule } });
    nf.orchestrator.registerAgent('producer', { capabilities: ['make'], execute: () => 'made' });
    nf.orchestrator.registerAgent('consumer', { capabilities: ['use'], execute: () => 'used' });
    await nf.start();
    for (let i = 0; i < 3; i++) {
      nf.orchestrator.submitWorkflow({
        tasks: [
          { taskId: `make${i}`, requiredCapabilities: ['make'] },
          { taskId: `use${i}`, dependencies: [`make${i}`], requiredCapabilities: ['use'] },
        ],
      });
      await nf.orchestrator.waitForWorkflow([`make${i}`, `use${i}`]);
    }
    await nf.stop();
    expect(nf.swarm.actor.getSnapshot().context.counters.tasksCompleted).toBe(6);
  });
});

describe('getNetworkState() is frozen, the root too', () => {
  test('writing to the root throws and changes nothing; the same view is returned until the state changes', () => {
    const swarm = new NeuralSwarmNetwork({ networkId: 'frozen', seed: 1 });
    swarm.recordTaskOutcomes([{ outcome: { taskId: 't0', agentId: 'c', producerAgentIds: ['p'] }, success: true }]);
    const state = swarm.getNetworkState();
    expect(Object.isFrozen(state)).toBe(true);
    expect(() => {
      (state as { counters: unknown }).counters = { tasksCompleted: 1e9 };
    }).toThrow(TypeError);
    expect(() => {
      (state as { rules: unknown }).rules = { ...state.rules, performanceAlpha: 5 };
    }).toThrow(TypeError);
    expect(swarm.getNetworkState()).toBe(state);
    expect(swarm.actor.getSnapshot().context.counters.tasksCompleted).toBe(1);
    swarm.recordTaskOutcomes([{ outcome: { taskId: 't1', agentId: 'c', producerAgentIds: ['p'] }, success: true }]);
    const later = swarm.getNetworkState();
    expect(later).not.toBe(state);
    expect(Object.isFrozen(later)).toBe(true);
    expect(later.counters.tasksCompleted).toBe(2);
    expect(swarm.agentPerformance('c')).toBeCloseTo(1 - 0.5 * 0.9 * 0.9, 12);
    void swarm.stop();
  });
});

describe('recordTaskOutcomes validates its argument', () => {
  const good = { outcome: { taskId: 't', agentId: 'c' }, success: true };
  const throwing = (field: 'outcome' | 'success', thrown: unknown) => {
    const entry = { outcome: good.outcome, success: true };
    Object.defineProperty(entry, field, {
      get() {
        throw thrown;
      },
    });
    return entry;
  };
  const lengthThrows = new Proxy([good], {
    get(target, key, receiver) {
      if (key === 'length') throw new Error('len');
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  test.each<[string, unknown, string]>([
    ['null', null, ''],
    ['undefined', undefined, ''],
    ['a string', 'abc', ''],
    ['an array-like', { length: 1 }, ''],
    ['a null entry', [null], '0'],
    ['success "false"', [good, { outcome: good.outcome, success: 'false' }], '1.success'],
    ['success missing', [{ outcome: good.outcome }], '0.success'],
    ['a bad outcome field', [{ outcome: { taskId: 't', agentId: '' }, success: true }], '0.outcome.agentId'],
    ['a success getter that throws a string', [throwing('success', 'boom')], '0.success'],
    ['an outcome getter that throws a number', [throwing('outcome', 42)], '0.outcome'],
    ['a proxy whose length throws', lengthThrows, ''],
  ])('%s: ValidationError naming the field, nothing held', (_, input, field) => {
    const swarm = new NeuralSwarmNetwork({ networkId: 'bad', seed: 1 });
    let thrown: unknown;
    try {
      swarm.recordTaskOutcomes(input as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).field).toBe(field);
    swarm.flushTaskOutcomes();
    expect(swarm.actor.getSnapshot().context.counters).toMatchObject({ tasksCompleted: 0, tasksFailed: 0 });
    void swarm.stop();
  });

  test('accepts exactly what TaskOutcomesSchema accepts, and learns what it parses', () => {
    const value = fc.oneof(fc.boolean(), fc.constant('false'), fc.constant(null), fc.constant(undefined), fc.integer(), fc.string({ maxLength: 3 }));
    const outcome = fc.oneof(
      fc.record(
        {
          taskId: fc.oneof(fc.string({ maxLength: 3 }), value),
          agentId: fc.oneof(fc.constantFrom('a', 'b', ''), value),
          taskType: fc.oneof(fc.string({ maxLength: 2 }), value),
          producerAgentIds: fc.oneof(fc.array(fc.constantFrom('a', 'b', 'c', ''), { maxLength: 3 }), value),
          durationMs: fc.oneof(fc.double(), value),
        },
        { requiredKeys: ['taskId', 'agentId'] },
      ),
      value,
    );
    const entry = fc.oneof(
      fc.record({ outcome, success: fc.oneof(fc.boolean(), value) }, { requiredKeys: ['outcome'] }),
      fc.record({ outcome, success: fc.boolean() }),
      value,
      fc.constant([]),
    );
    fc.assert(
      fc.property(fc.oneof(fc.array(entry, { maxLength: 3 }), value), (input) => {
        const swarm = new NeuralSwarmNetwork({ networkId: 'equivalence', seed: 1 });
        const expected = TaskOutcomesSchema.safeParse(input);
        let accepted = true;
        try {
          swarm.recordTaskOutcomes(input as never);
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          accepted = false;
        }
        expect(accepted).toBe(expected.success);
        if (expected.success) {
          const counters = swarm.getNetworkState().counters;
          const successes = expected.data.filter((e) => e.success).length;
          expect(counters.tasksCompleted).toBe(successes);
        }
        void swarm.stop();
      }),
      { numRuns: 400 },
    );
  });
});

test("TASK_OUTCOME_BATCHES_OBSERVED: the event's at is the time of a batch that has none", () => {
  const swarm = new NeuralSwarmNetwork({ networkId: 'at', seed: 1, clock: new SimulatedClock() });
  swarm.actor.send({
    type: 'TASK_OUTCOME_BATCHES_OBSERVED',
    at: 5000,
    batches: [{ outcomes: [{ outcome: { taskId: 't', agentId: 'c', producerAgentIds: ['p'] }, success: true }] }, { outcomes: [], at: 7000 }],
  });
  const context = swarm.actor.getSnapshot().context;
  expect(findConnection(context, 'p', 'c')!.outcomes.map((o) => o.at)).toEqual([5000]);
  expect(context.now).toBe(7000);
  void swarm.stop();
});
