/**
 * The statecharts drawn in docs/ are generated from the machines. This test fails when a
 * drawing is stale; `npm run docs:diagrams` rewrites them (like `jest -u` for snapshots).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyStateMachine } from 'xstate';
import { agentMachine } from '../machines/agent.machine';
import { autoscalerMachine } from '../machines/autoscaler.machine';
import { conflictMachine } from '../machines/conflict.machine';
import { heartbeatMachine } from '../machines/heartbeat.machine';
import { hostLivenessMachine } from '../machines/hostLiveness.machine';
import { leaderElectionMachine } from '../machines/leaderElection.machine';
import { neuroFluxMachine } from '../machines/neuroFlux.machine';
import { orchestratorMachine } from '../machines/orchestrator.machine';
import { swarmMachine } from '../machines/swarm.machine';
import { taskMachine } from '../machines/task.machine';
import { statechartToMermaid } from '../src/observability/statechartDiagram';

const diagrams: { doc: string; name: string; machine: AnyStateMachine }[] = [
  { doc: 'bus.md', name: 'agent', machine: agentMachine },
  { doc: 'orchestration.md', name: 'task', machine: taskMachine },
  { doc: 'orchestration.md', name: 'orchestrator', machine: orchestratorMachine },
  { doc: 'orchestration.md', name: 'hostLiveness', machine: hostLivenessMachine },
  { doc: 'orchestration.md', name: 'heartbeat', machine: heartbeatMachine },
  { doc: 'orchestration.md', name: 'leaderElection', machine: leaderElectionMachine },
  { doc: 'conflicts.md', name: 'conflict', machine: conflictMachine },
  { doc: 'swarm.md', name: 'swarm', machine: swarmMachine },
  { doc: 'distributed.md', name: 'autoscaler', machine: autoscalerMachine },
  { doc: 'getting-started.md', name: 'neuroFlux', machine: neuroFluxMachine },
];

const update = process.env['UPDATE_DIAGRAMS'] === '1';

describe('generated statecharts in docs/', () => {
  test.each(diagrams)('docs/$doc shows the current $name statechart', ({ doc, name, machine }) => {
    const path = join(__dirname, '..', 'docs', doc);
    const text = readFileSync(path, 'utf8');
    const start = `<!-- statechart:${name} -->`;
    const end = `<!-- /statechart:${name} -->`;
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    expect(from).toBeGreaterThanOrEqual(0);
    expect(to).toBeGreaterThan(from);
    const block = `${start}\n\`\`\`mermaid\n${statechartToMermaid(machine)}\n\`\`\`\n${end}`;
    const current = text.slice(from, to + end.length);
    if (update && current !== block) writeFileSync(path, text.replace(current, block));
    else expect(current).toBe(block);
  });
});
