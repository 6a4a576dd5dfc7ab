import type { OrchestratorAgent } from './orchestratorAgent';
import { compositeKey } from '../compositeKey';

/**
 * Whether some registered agent has all of a set of capabilities, answered once per distinct
 * set for one submission (made per submission, not per task): a workflow of 100 000 tasks
 * must not scan every agent for each task. Agents registered after it was made are not seen.
 * @internal
 */
export function capabilityCoverage(agents: ReadonlyMap<string, OrchestratorAgent>): (required: readonly string[]) => boolean {
  const known = new Map<string, boolean>();
  return (required) => {
    const key = compositeKey([...required].sort());
    let answer = known.get(key);
    if (answer === undefined) {
      answer = false;
      for (const agent of agents.values()) {
        if (agent.hasCapabilities(required)) {
          answer = true;
          break;
        }
      }
      known.set(key, answer);
    }
    return answer;
  };
}
