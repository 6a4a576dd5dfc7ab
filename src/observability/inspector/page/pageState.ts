/** What the page knows of the runtime, kept up to date from the server's frames. */
import type {
  ActorView,
  ConflictView,
  DeadLetterView,
  MessageView,
  SamplingView,
  StatechartFrame,
  StatechartGraph,
  StatsView,
  SwarmView,
  TaskView,
  WorkflowView,
  XStateEventView,
} from '../inspectorProtocol.js';

/** What the user selected: an actor of the tree, or a task of the DAG (by system id). */
export interface Selection {
  readonly actorId?: string;
  readonly systemId?: string;
  readonly taskId?: string;
}

export interface PageState {
  actors: Map<string, ActorView>;
  events: XStateEventView[];
  eventBuffer: number;
  messages: MessageView[];
  readonly messageBuffer: number;
  deadLetters: DeadLetterView[];
  tasks: Map<string, TaskView>;
  workflows: Map<string, WorkflowView>;
  workflowOrder: string[];
  conflicts: Map<string, ConflictView>;
  swarm: SwarmView | null;
  stats: StatsView | null;
  sampling: SamplingView | null;
  name: string;
  protocolMismatch: number | null;
  selected: Selection | null;
  followWorkflow: boolean;
  selectedWorkflow: string | null;
  /** Statechart graphs by logic id: one per machine, whatever the number of actors. */
  readonly graphs: Map<string, StatechartGraph>;
  statechart: StatechartFrame | null;
  readonly expanded: Set<string>;
  readonly collapsed: Set<string>;
}

/** Which views must be drawn again. */
export type Dirty = Record<'tree' | 'dag' | 'dagStatus' | 'chart' | 'sequence' | 'conflicts' | 'swarm' | 'events' | 'header' | 'actions', boolean>;

export function createPageState(): PageState {
  return {
    actors: new Map(),
    events: [],
    eventBuffer: 1000,
    messages: [],
    messageBuffer: 1000,
    deadLetters: [],
    tasks: new Map(),
    workflows: new Map(),
    workflowOrder: [],
    conflicts: new Map(),
    swarm: null,
    stats: null,
    sampling: null,
    name: '',
    protocolMismatch: null,
    selected: null,
    followWorkflow: true,
    selectedWorkflow: null,
    graphs: new Map(),
    statechart: null,
    expanded: new Set(),
    collapsed: new Set(),
  };
}

export function allDirty(): Dirty {
  return { tree: true, dag: true, dagStatus: true, chart: true, sequence: true, conflicts: true, swarm: true, events: true, header: true, actions: true };
}

export function markAll(dirty: Dirty): void {
  for (const key of Object.keys(dirty) as (keyof Dirty)[]) dirty[key] = true;
}

export const FINAL_TASK_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled', 'timeout']);

export function applyActors(state: PageState, dirty: Dirty, actors: readonly ActorView[], removed: readonly string[]): void {
  if (actors.length === 0 && removed.length === 0) return;
  for (const actor of actors) {
    state.actors.set(actor.id, actor);
    if (state.selected && state.statechart && actor.id === state.statechart.actorId) dirty.chart = true;
  }
  for (const id of removed) state.actors.delete(id);
  dirty.tree = true;
  dirty.header = true;
}

export function applyTasks(
  state: PageState,
  dirty: Dirty,
  tasks: readonly TaskView[],
  removedTasks: readonly string[],
  workflows: readonly WorkflowView[],
  removedWorkflows: readonly string[],
): void {
  for (const task of tasks) {
    const before = state.tasks.get(task.taskId);
    state.tasks.set(task.taskId, task);
    if (!before || before.workflowId !== task.workflowId) dirty.dag = true;
    dirty.dagStatus = true;
    if (state.selected?.taskId === task.taskId) dirty.actions = true;
  }
  for (const id of removedTasks) state.tasks.delete(id);
  for (const workflow of workflows) {
    const known = state.workflows.get(workflow.workflowId);
    if (!known) state.workflowOrder.push(workflow.workflowId);
    if (!known || known.taskIds.length !== workflow.taskIds.length) dirty.dag = true;
    state.workflows.set(workflow.workflowId, workflow);
    dirty.dagStatus = true;
  }
  for (const id of removedWorkflows) {
    state.workflows.delete(id);
    const index = state.workflowOrder.indexOf(id);
    if (index >= 0) state.workflowOrder.splice(index, 1);
    dirty.dag = true;
  }
  if (tasks.length || workflows.length || removedTasks.length || removedWorkflows.length) dirty.header = true;
}

export function applyConflicts(state: PageState, dirty: Dirty, conflicts: readonly ConflictView[], removed: readonly string[]): void {
  for (const conflict of conflicts) state.conflicts.set(conflict.conflictId, conflict);
  for (const id of removed) state.conflicts.delete(id);
  if (conflicts.length || removed.length) dirty.conflicts = true;
}

/** Every state path that is active in a state value (`{ open: 'voting' }` → open, open.voting). */
export function activePaths(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix ? `${prefix}.${value}` : value];
  if (!value || typeof value !== 'object') return [];
  const out: string[] = [];
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    out.push(path, ...activePaths(child, path));
  }
  return out;
}

export function shortName(actor: ActorView | undefined): string {
  if (!actor) return '?';
  return actor.systemId || actor.name || actor.id;
}
