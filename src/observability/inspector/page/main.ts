/**
 * The inspector page's entry module: reads the server's frames from `/ws`, keeps the page
 * state and redraws what changed once per animation frame.
 */
import { INSPECTOR_PROTOCOL_VERSION, STATECHART_NOT_RECEIVED, type ClientFrame, type ServerFrame, type StatechartFrame } from '../inspectorProtocol.js';
import { renderActions } from './actionButtons.js';
import { listenForSelection, renderTree } from './actorTree.js';
import { renderConflicts } from './conflictsView.js';
import { byId, fmt, pct } from './dom.js';
import { renderEvents } from './eventsView.js';
import { allDirty, applyActors, applyConflicts, applyTasks, createPageState, markAll, type Selection } from './pageState.js';
import { renderSequence } from './sequenceView.js';
import { StatechartView } from './statechartView.js';
import { renderSwarm } from './swarmView.js';
import { WorkflowDagView } from './workflowDag.js';
import { ZoomableCanvas } from './zoomableCanvas.js';

/** How soon the page asks again for a statechart its attached runtime has not sent yet. */
const STATECHART_RETRY_MS = 500;

const state = createPageState();
const dirty = allDirty();
let socket: WebSocket | null = null;
let renderScheduled = false;

const dag = new WorkflowDagView(state, new ZoomableCanvas(byId('workflow-dag'), byId('workflow-zoom')), select);
const chart = new StatechartView(state, new ZoomableCanvas(byId('statechart'), byId('statechart-zoom')));

function setConnection(kind: 'connecting' | 'open' | 'closed', text: string): void {
  const node = byId('connection');
  node.className = `status ${kind}`;
  node.textContent = text;
  document.body.setAttribute('data-connection', kind);
}

function connect(): void {
  const protocol = location.protocol === 'https:' ? 'wss://' : 'ws://';
  const ws = new WebSocket(`${protocol}${location.host}/ws`);
  socket = ws;
  setConnection('connecting', 'connecting…');
  ws.onopen = () => setConnection('open', 'live');
  ws.onclose = () => {
    setConnection('closed', 'disconnected — retrying');
    setTimeout(connect, 1000);
  };
  ws.onmessage = (message: MessageEvent<string>) => {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(message.data) as ServerFrame;
    } catch {
      return;
    }
    receive(frame);
  };
}

function send(frame: ClientFrame): void {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

function receive(frame: ServerFrame): void {
  switch (frame.type) {
    case 'hello':
      state.name = frame.name;
      state.protocolMismatch = frame.protocol === INSPECTOR_PROTOCOL_VERSION ? null : frame.protocol;
      dirty.header = true;
      break;
    case 'snapshot':
      state.actors = new Map();
      state.tasks = new Map();
      state.workflows = new Map();
      state.workflowOrder = [];
      state.conflicts = new Map();
      applyActors(state, dirty, frame.actors, []);
      state.events = frame.events.slice(-state.eventBuffer);
      state.messages = frame.messages.slice(-state.messageBuffer);
      state.deadLetters = frame.deadLetters.slice();
      applyTasks(state, dirty, frame.tasks, [], frame.workflows, []);
      applyConflicts(state, dirty, frame.conflicts, []);
      state.swarm = frame.swarm;
      state.stats = frame.stats;
      state.sampling = frame.sampling;
      document.body.setAttribute('data-snapshot', 'received');
      markAll(dirty);
      if (state.selected) requestStatechart(state.selected);
      break;
    case 'delta':
      applyActors(state, dirty, frame.actors, frame.removedActors);
      if (frame.events.length) state.events = state.events.concat(frame.events).slice(-state.eventBuffer);
      if (frame.messages.length) state.messages = state.messages.concat(frame.messages).slice(-state.messageBuffer);
      if (frame.deadLetters.length) state.deadLetters = state.deadLetters.concat(frame.deadLetters).slice(-200);
      applyTasks(state, dirty, frame.tasks, frame.removedTasks, frame.workflows, frame.removedWorkflows);
      applyConflicts(state, dirty, frame.conflicts, frame.removedConflicts);
      if (frame.swarm) {
        state.swarm = frame.swarm;
        dirty.swarm = true;
      }
      if (frame.stats) {
        // The action buttons follow the paused agents (redrawn only when they change).
        const paused = (stats: typeof state.stats) => JSON.stringify(stats?.orchestrator['pausedAgents'] ?? null);
        if (paused(frame.stats) !== paused(state.stats)) dirty.actions = true;
        state.stats = frame.stats;
      }
      state.sampling = frame.sampling;
      dirty.header = true;
      if (frame.events.length) dirty.events = true;
      if (frame.messages.length) dirty.sequence = true;
      document.body.setAttribute('data-seq', String(frame.seq));
      break;
    case 'statechart':
      receiveStatechart(frame);
      break;
    case 'pong':
    case 'error':
      return;
  }
  scheduleRender();
}

function select(target: Selection): void {
  state.selected = target;
  state.statechart = null;
  chart.invalidate();
  if (target.taskId) {
    state.followWorkflow = false;
    state.selectedWorkflow = state.tasks.get(target.taskId)?.workflowId ?? state.selectedWorkflow;
  }
  requestStatechart(target);
  dirty.tree = true;
  dirty.dagStatus = true;
  dirty.chart = true;
  dirty.actions = true;
  scheduleRender();
}

function requestStatechart(target: Selection): void {
  if (target.actorId) send({ type: 'statechart', actorId: target.actorId });
  else if (target.systemId) send({ type: 'statechart', systemId: target.systemId });
}

function receiveStatechart(frame: StatechartFrame): void {
  const selected = state.selected;
  if (!selected) return;
  if (selected.actorId && frame.actorId !== selected.actorId) return;
  if (selected.systemId && frame.systemId !== selected.systemId) return;
  if (frame.graph && frame.logicId) state.graphs.set(frame.logicId, frame.graph);
  state.statechart = frame;
  dirty.chart = true;
  // An attached inspector may hear of an actor before its runtime's statechart arrives;
  // nothing else would ask again, so ask until it comes or the selection changes.
  if (!frame.graph && frame.reason === STATECHART_NOT_RECEIVED) {
    setTimeout(() => {
      if (state.selected === selected) requestStatechart(selected);
    }, STATECHART_RETRY_MS);
  }
}

function scheduleRender(): void {
  if (renderScheduled) return;
  renderScheduled = true;
  requestAnimationFrame(() => {
    renderScheduled = false;
    render();
  });
}

function render(): void {
  if (dirty.header) {
    renderHeader();
    dirty.header = false;
  }
  if (dirty.tree) {
    renderTree(state, { select, redraw: () => ((dirty.tree = true), scheduleRender()) });
    dirty.tree = false;
  }
  if (dirty.dag || dirty.dagStatus) {
    if (dirty.dag) dag.invalidate();
    dag.render();
    dirty.dag = false;
    dirty.dagStatus = false;
  }
  if (dirty.chart) {
    chart.render();
    dirty.chart = false;
  }
  if (dirty.sequence) {
    renderSequence(state);
    dirty.sequence = false;
  }
  if (dirty.conflicts) {
    renderConflicts(state);
    dirty.conflicts = false;
  }
  if (dirty.swarm) {
    renderSwarm(state);
    dirty.swarm = false;
  }
  if (dirty.events) {
    renderEvents(state);
    dirty.events = false;
  }
  if (dirty.actions) {
    renderActions(state, () => ((dirty.actions = true), scheduleRender()));
    dirty.actions = false;
  }
  document.body.setAttribute('data-rendered', 'true');
}

function renderHeader(): void {
  byId('runtime-name').textContent = state.name ? `— ${state.name}` : '';
  let live = 0;
  let finished = 0;
  for (const a of state.actors.values()) {
    if (a.status === 'active') live++;
    else finished++;
  }
  const parts = [`actors ${fmt(live)} live, ${fmt(finished)} finished`, `tasks ${fmt(state.tasks.size)}`, `workflows ${fmt(state.workflows.size)}`];
  const s = state.stats;
  if (s) {
    const deadLetters = (s.bus['deadLetters'] as { total?: unknown } | undefined)?.total;
    parts.push(`messages sent ${fmt(s.bus['messagesSent'])}, dead letters ${fmt(deadLetters)}`);
    parts.push(`tasks completed ${fmt(s.orchestrator['tasksCompleted'])}, failed ${fmt(s.orchestrator['tasksFailed'])}`);
    parts.push(`conflicts resolved ${fmt(s.conflicts['conflictsResolved'])}, escalated ${fmt(s.conflicts['conflictsEscalated'])}`);
  }
  if (state.protocolMismatch !== null) parts.push(`server protocol ${state.protocolMismatch}, page ${INSPECTOR_PROTOCOL_VERSION}: reload the page`);
  byId('counts').textContent = parts.join(' · ');
  const sm = state.sampling;
  if (sm) {
    byId('sampling').textContent =
      `Sampling: XState events — the newest ${fmt(sm.eventsPerFlush)} per ${sm.flushIntervalMs} ms are kept, the page keeps ${fmt(sm.eventBuffer)} ` +
      `(${fmt(sm.eventsDropped)} of ${fmt(sm.eventsSeen)} dropped, ${pct(sm.eventsDropped, sm.eventsSeen)}); ` +
      `bus messages — the newest ${fmt(sm.messagesPerFlush)} per ${sm.flushIntervalMs} ms (${fmt(sm.messagesDropped)} of ${fmt(sm.messagesSeen)} dropped); ` +
      `actor states are coalesced to one update per actor per ${sm.flushIntervalMs} ms; ` +
      `tracking ${fmt(sm.actorsTracked)} live actors (limit ${fmt(sm.actorLimit)}, ${fmt(sm.actorsUntracked)} untracked) and the last ${fmt(sm.finishedKept)} finished ones.`;
    state.eventBuffer = sm.eventBuffer || 1000;
  }
}

window.addEventListener('resize', () => {
  dag.invalidate();
  chart.invalidate();
  dirty.dag = true;
  dirty.chart = true;
  dirty.sequence = true;
  dirty.swarm = true;
  scheduleRender();
});
listenForSelection({ select });
byId('actor-filter').addEventListener('input', () => {
  dirty.tree = true;
  scheduleRender();
});
byId('show-finished').addEventListener('change', () => {
  dirty.tree = true;
  scheduleRender();
});
byId<HTMLSelectElement>('workflow-select').addEventListener('change', (event) => {
  const value = (event.target as HTMLSelectElement).value;
  state.followWorkflow = value === '';
  state.selectedWorkflow = value || null;
  dirty.dag = true;
  scheduleRender();
});
render();
connect();
