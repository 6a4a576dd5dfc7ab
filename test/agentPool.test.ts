/**
 * The agent pool's heap against a sorted list: whatever agents join, leave and change load or
 * score, `top()` is the best available agent (available first, then higher score, then
 * registered earlier) and `availableAgents()` holds exactly the available members.
 */
import fc from 'fast-check';
import { AgentPool } from '../src/orchestration/agentPool';
import type { ScoringBalancer } from '../src/orchestration/balancers';
import type { OrchestratorAgent } from '../src/orchestration/orchestratorAgent';

interface FakeAgent {
  readonly agentId: string;
  readonly registrationOrder: number;
  readonly pools: Set<AgentPool>;
  available: boolean;
  score: number;
}

const balancer: ScoringBalancer = { name: 'fake', score: (agent) => (agent as unknown as FakeAgent).score };

function best(members: readonly FakeAgent[]): FakeAgent | undefined {
  const sorted = [...members].sort((a, b) =>
    a.available !== b.available ? (a.available ? -1 : 1) : a.score !== b.score ? b.score - a.score : a.registrationOrder - b.registrationOrder,
  );
  return sorted[0]?.available ? sorted[0] : undefined;
}

const op = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), available: fc.boolean(), score: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('change' as const), pick: fc.nat(), available: fc.boolean(), score: fc.integer({ min: 0, max: 5 }) }),
);

describe('AgentPool', () => {
  it('keeps the best available agent on top through joins, leaves and changes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const pool = new AgentPool('k', balancer, { taskType: 't', priority: 'medium', requiredCapabilities: [] });
        const members: FakeAgent[] = [];
        let order = 0;
        for (const o of ops) {
          if (o.kind === 'add') {
            const agent: FakeAgent = { agentId: `a${order}`, registrationOrder: order++, pools: new Set(), available: o.available, score: o.score };
            members.push(agent);
            pool.add(agent as unknown as OrchestratorAgent);
          } else if (members.length > 0) {
            const at = o.pick % members.length;
            const agent = members[at] as FakeAgent;
            if (o.kind === 'remove') {
              members.splice(at, 1);
              pool.remove(agent as unknown as OrchestratorAgent);
              expect(agent.pools.has(pool)).toBe(false);
            } else {
              agent.available = o.available;
              agent.score = o.score;
              pool.update(agent as unknown as OrchestratorAgent);
            }
          }
          expect(pool.size).toBe(members.length);
          expect(pool.top()).toBe(best(members));
          expect(new Set(pool.availableAgents())).toEqual(new Set(members.filter((m) => m.available)));
        }
      }),
      { numRuns: 300 },
    );
  });
});
