import type { TaskState } from './taskTypes';
import { compositeKey } from '../compositeKey';

/** An unfinished task as stall detection sees it. */
export interface ProgressStateTask {
  readonly taskId: string;
  readonly state: TaskState;
  readonly requiredCapabilities: readonly string[];
  readonly assignedAgent: string | null;
}

/** A registered agent as stall detection sees it. */
export interface ProgressStateAgent {
  readonly agentId: string;
  readonly capabilities: readonly string[];
  /** The host that announced it (it runs in another process), if any. */
  readonly hostId: string | undefined;
  /** Whether it has an executor in the orchestrator's own process. */
  readonly executesHere: boolean;
}

/** What an orchestrator holds that decides whether its tasks can make progress (see `TaskOrchestrator.progressState`). */
export interface OrchestratorProgressState {
  /** Unfinished tasks only. */
  readonly tasks: readonly ProgressStateTask[];
  readonly agents: readonly ProgressStateAgent[];
  /** Agent hosts whose heartbeats are current. */
  readonly hostsAlive: number;
}

/**
 * Why a task cannot be given to any agent:
 * - `no_host`: agents were to come from agent hosts, and none has announced itself;
 * - `no_capable_agent`: no agent that can run tasks has all its capabilities;
 * - `no_executor`: agents with its capabilities exist, but none of them can run a task
 *   (declared without executor, and nothing else reads their assignments).
 */
export type BlockedReason = 'no_host' | 'no_capable_agent' | 'no_executor';

/** A task that no agent can take as things stand. */
export interface BlockedTask {
  readonly taskId: string;
  readonly reason: BlockedReason;
  readonly requiredCapabilities: readonly string[];
  /** Its capabilities no agent able to run tasks has (empty when each is held, but by no single agent). */
  readonly missingCapabilities: readonly string[];
  /** With `no_executor`: the agents that have its capabilities but cannot run it. */
  readonly agentsWithoutExecutor: readonly string[];
}

/** The verdict of {@link diagnoseStall}. */
export interface StallDiagnosis {
  /** Tasks no agent can take, in the order of the state's tasks. */
  readonly blocked: readonly BlockedTask[];
  /** Some task is running, retrying, or can be given to an agent: the run moves on. */
  readonly progressing: boolean;
  /** Blocked tasks exist and nothing else moves: without a change (an agent joining) the run never ends. */
  readonly stalled: boolean;
  /** Not one agent able to run tasks is registered (with `expectRemoteAgents`: no host announced any). */
  readonly noAgents: boolean;
}

/** How to read an orchestrator's state for {@link diagnoseStall}. */
export interface StallDiagnosisOptions {
  /**
   * Whether an agent can run the tasks it is given. Default: it has an executor here or was
   * announced by a host. An agent registered without executor may still be served by code
   * that reads its mailbox or by a process the orchestrator does not know of: a program that
   * does so says so here.
   */
  readonly canRun?: (agent: ProgressStateAgent) => boolean;
  /** The agents come from agent hosts (`neuroflux run --remote-agents`): an empty host list is named as such. */
  readonly expectRemoteAgents?: boolean;
}

const defaultCanRun = (agent: ProgressStateAgent): boolean => agent.executesHere || agent.hostId !== undefined;

function holdsAll(agent: ProgressStateAgent, required: readonly string[]): boolean {
  return required.every((capability) => agent.capabilities.includes(capability));
}

/**
 * Whether the tasks of an orchestrator can make progress: which unfinished tasks no agent
 * can take, and why, and whether anything else still moves. Pure: the same state gives the
 * same answer, so it is tested without a runtime and without time.
 *
 * A task waiting for its dependencies is neither blocked nor progressing: it moves when
 * they do. A retrying task is progressing (its backoff timer will queue it again; if no
 * agent can take it then, it is blocked from then on).
 *
 * @example
 * ```ts
 * const diagnosis = diagnoseStall(orchestrator.progressState());
 * for (const task of diagnosis.blocked) console.log(task.taskId, task.reason, task.missingCapabilities);
 * ```
 */
export function diagnoseStall(state: OrchestratorProgressState, options: StallDiagnosisOptions = {}): StallDiagnosis {
  const canRun = options.canRun ?? defaultCanRun;
  const runnable = state.agents.filter((agent) => canRun(agent));
  const runnableIds = new Set(runnable.map((agent) => agent.agentId));
  const answers = new Map<string, BlockedTask | undefined>();
  // The orchestrator hands out one list per distinct capability set: most lookups hit by reference.
  const byList = new Map<readonly string[], BlockedTask | undefined>();
  const blocked: BlockedTask[] = [];
  let progressing = false;
  for (const task of state.tasks) {
    if (task.state === 'waiting') continue;
    if (task.state === 'retrying') {
      progressing = true;
      continue;
    }
    if ((task.state === 'assigned' || task.state === 'running') && task.assignedAgent !== null && runnableIds.has(task.assignedAgent)) {
      progressing = true;
      continue;
    }
    if (task.state !== 'queued' && task.state !== 'assigned' && task.state !== 'running') continue;
    // One answer per distinct capability set: a workflow of 100 000 tasks has few of them.
    let answer: BlockedTask | undefined;
    if (byList.has(task.requiredCapabilities)) answer = byList.get(task.requiredCapabilities);
    else {
      const key = compositeKey([...task.requiredCapabilities].sort());
      if (!answers.has(key)) answers.set(key, blockedBy(task.requiredCapabilities, runnable, state, options.expectRemoteAgents === true, canRun));
      answer = answers.get(key);
      byList.set(task.requiredCapabilities, answer);
    }
    if (answer === undefined) progressing = true;
    else blocked.push({ ...answer, taskId: task.taskId });
  }
  return { blocked, progressing, stalled: blocked.length > 0 && !progressing, noAgents: runnable.length === 0 };
}

/** Why tasks needing `required` cannot be taken, or undefined when an agent able to run them has them all. */
function blockedBy(
  required: readonly string[],
  runnable: readonly ProgressStateAgent[],
  state: OrchestratorProgressState,
  expectRemoteAgents: boolean,
  canRun: (agent: ProgressStateAgent) => boolean,
): BlockedTask | undefined {
  if (runnable.some((agent) => holdsAll(agent, required))) return undefined;
  const missingCapabilities = [...new Set(required)].filter((capability) => !runnable.some((agent) => agent.capabilities.includes(capability)));
  const agentsWithoutExecutor = state.agents.filter((agent) => !canRun(agent) && holdsAll(agent, required)).map((agent) => agent.agentId);
  const reason: BlockedReason = agentsWithoutExecutor.length > 0 ? 'no_executor' : expectRemoteAgents && state.hostsAlive === 0 ? 'no_host' : 'no_capable_agent';
  return { taskId: '', reason, requiredCapabilities: [...required], missingCapabilities, agentsWithoutExecutor };
}
