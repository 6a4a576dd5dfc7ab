/**
 * The page's actions: cancel or retry the selected task, pause or resume the selected
 * agent. Each is a POST to `/api/actions` carrying the token the server put in the page
 * (a page of another origin cannot read it, so it cannot act).
 */
import type { ActionReply, ActionRequest } from '../inspectorProtocol.js';
import { byId, clear, el } from './dom.js';
import { FINAL_TASK_STATUSES, type PageState } from './pageState.js';

const RETRYABLE = new Set(['failed', 'timeout', 'cancelled']);
const AGENT_SYSTEM_ID = 'agent:';

function token(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="neuroflux-action-token"]')?.content ?? '';
}

/** The answer to the last action, shown while what it acted on stays selected. */
let lastResult: { text: string; refused: boolean; target: string } | null = null;

function targetOf(request: ActionRequest): string {
  return 'taskId' in request ? `task:${request.taskId}` : `agent:${request.agentId}`;
}

async function perform(request: ActionRequest, redraw: () => void): Promise<void> {
  let result: { text: string; refused: boolean };
  try {
    const response = await fetch('/api/actions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-NeuroFlux-Token': token() },
      body: JSON.stringify(request),
    });
    const reply = (await response.json()) as ActionReply;
    result = reply.ok ? { text: reply.message, refused: false } : { text: reply.error, refused: true };
  } catch (error) {
    result = { text: `failed: ${String(error)}`, refused: true };
  }
  lastResult = { ...result, target: targetOf(request) };
  document.body.setAttribute('data-last-action', result.refused ? 'refused' : 'done');
  redraw();
}

function button(label: string, request: ActionRequest, redraw: () => void): HTMLButtonElement {
  const node = el('button', { type: 'button', 'data-action': request.action }, label);
  node.addEventListener('click', () => {
    node.disabled = true;
    void perform(request, redraw);
  });
  return node;
}

function resultNode(target: string): HTMLElement | null {
  if (!lastResult || lastResult.target !== target) return null;
  return el('span', { class: `action-result${lastResult.refused ? ' refused' : ''}`, title: lastResult.text }, lastResult.text);
}

/** Draws the buttons that apply to the current selection. */
export function renderActions(state: PageState, redraw: () => void): void {
  const taskBar = byId('task-actions');
  const agentBar = byId('agent-actions');
  clear(taskBar);
  clear(agentBar);
  const taskId = state.selected?.taskId;
  const task = taskId ? state.tasks.get(taskId) : undefined;
  if (task) {
    if (!FINAL_TASK_STATUSES.has(task.status)) taskBar.appendChild(button('cancel', { action: 'cancelTask', taskId: task.taskId }, redraw));
    if (RETRYABLE.has(task.status)) taskBar.appendChild(button('retry', { action: 'retryTask', taskId: task.taskId }, redraw));
  }
  const actorId = state.selected?.actorId;
  const systemId = (actorId ? state.actors.get(actorId)?.systemId : state.selected?.systemId) ?? '';
  if (systemId.startsWith(AGENT_SYSTEM_ID)) {
    const agentId = systemId.slice(AGENT_SYSTEM_ID.length);
    // The orchestrator's stats list its paused agents: only the button that applies is drawn.
    const paused = state.stats?.orchestrator['pausedAgents'];
    if (Array.isArray(paused) && paused.includes(agentId)) {
      agentBar.appendChild(el('span', { class: 'agent-paused', 'data-agent-paused': 'true' }, 'paused'));
      agentBar.appendChild(button('resume', { action: 'resumeAgent', agentId }, redraw));
    } else {
      agentBar.appendChild(button('pause', { action: 'pauseAgent', agentId }, redraw));
    }
  }
  if (task) {
    const result = resultNode(`task:${task.taskId}`);
    if (result) taskBar.appendChild(result);
  }
  if (systemId.startsWith(AGENT_SYSTEM_ID)) {
    const result = resultNode(systemId);
    if (result) agentBar.appendChild(result);
  }
}
