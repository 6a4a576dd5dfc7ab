/** The task DAG of one workflow, laid out with dagre, each task coloured by its live status. */
import type { TaskView, WorkflowView } from '../inspectorProtocol.js';
import { FONT, arrowMarker, byId, clear, el, pathOf, svgEl, textWidth } from './dom.js';
import { FINAL_TASK_STATUSES, type PageState, type Selection } from './pageState.js';
import type { ZoomableCanvas } from './zoomableCanvas.js';

const TITLE_Y = 19;
const DETAIL_Y = 38;
const NODE_HEIGHT = 50;
const NODE_PAD = 10;

export class WorkflowDagView {
  private layoutKey = '';

  constructor(
    private readonly state: PageState,
    private readonly canvas: ZoomableCanvas,
    private readonly select: (target: Selection) => void,
  ) {}

  /** Forgets the layout: the next render lays the DAG out again (e.g. after a resize). */
  invalidate(): void {
    this.layoutKey = '';
  }

  currentWorkflow(): WorkflowView | null {
    const { state } = this;
    if (!state.followWorkflow && state.selectedWorkflow) {
      const chosen = state.workflows.get(state.selectedWorkflow);
      if (chosen) return chosen;
    }
    for (let i = state.workflowOrder.length - 1; i >= 0; i--) {
      const w = state.workflows.get(state.workflowOrder[i] ?? '');
      if (w) return w;
    }
    return null;
  }

  render(): void {
    const workflow = this.currentWorkflow();
    this.renderSelect(workflow);
    const container = byId('workflow-dag');
    if (!workflow) {
      clear(container);
      container.appendChild(el('p', { class: 'empty' }, 'No task yet.'));
      this.layoutKey = '';
      return;
    }
    // JSON, not joined: ids may hold ',' or ':' (two workflows must not share a layout).
    const key = JSON.stringify([workflow.workflowId, ...workflow.taskIds]);
    if (key !== this.layoutKey) {
      this.layoutKey = key;
      this.layout(container, workflow);
    }
    this.updateStatuses(container, workflow);
  }

  private renderSelect(current: WorkflowView | null): void {
    const { state } = this;
    const select = byId<HTMLSelectElement>('workflow-select');
    clear(select);
    select.appendChild(el('option', { value: '' }, 'newest (follow)'));
    for (const id of state.workflowOrder.slice().reverse().slice(0, 50)) {
      const w = state.workflows.get(id);
      if (!w) continue;
      let done = 0;
      for (const t of w.taskIds) if (FINAL_TASK_STATUSES.has(state.tasks.get(t)?.status ?? '')) done++;
      select.appendChild(el('option', { value: id }, `${id} — ${done}/${w.taskIds.length}${w.finished ? ' ✓' : ''}`));
    }
    select.value = state.followWorkflow || !current ? '' : current.workflowId;
  }

  private layout(container: HTMLElement, workflow: WorkflowView): void {
    clear(container);
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: 'TB', nodesep: 18, ranksep: 34, marginx: 10, marginy: 10 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const id of workflow.taskIds) {
      const task = this.state.tasks.get(id);
      const label = task ? task.name : id;
      // The detail line (status · agent · retries) is not known yet: leave room for a typical one.
      const width = Math.max(textWidth(label, FONT.label, true), textWidth('completed · agent-name-00', FONT.small)) + 2 * NODE_PAD;
      g.setNode(id, { width: Math.max(150, Math.ceil(width)), height: NODE_HEIGHT });
    }
    for (const id of workflow.taskIds) {
      const task = this.state.tasks.get(id);
      if (!task) continue;
      for (const dep of task.dependencies) if (g.hasNode(dep)) g.setEdge(dep, id);
    }
    dagre.layout(g);
    const size = g.graph();
    const root = svgEl('svg', { class: 'dag', width: size.width ?? 0, height: size.height ?? 0, 'data-workflow-id': workflow.workflowId });
    root.appendChild(arrowMarker('dag-arrow'));
    for (const e of g.edges())
      root.appendChild(svgEl('path', { class: 'edge', d: pathOf((g.edge(e) as { points?: Parameters<typeof pathOf>[0] }).points), 'marker-end': 'url(#dag-arrow)' }));
    for (const id of g.nodes()) {
      const n = g.node(id);
      const task = this.state.tasks.get(id);
      const x = (n.x ?? 0) - n.width / 2;
      const y = (n.y ?? 0) - n.height / 2;
      const group = svgEl('g', { class: 'task', 'data-task-id': id, transform: `translate(${x},${y})` });
      group.appendChild(svgEl('rect', { width: n.width, height: n.height, rx: 6 }));
      group.appendChild(svgEl('text', { x: NODE_PAD, y: TITLE_Y, class: 'title', 'font-size': FONT.label }, task ? task.name : id));
      group.appendChild(svgEl('text', { x: NODE_PAD, y: DETAIL_Y, class: 'detail', 'font-size': FONT.small }, ''));
      group.appendChild(svgEl('title'));
      group.addEventListener('click', () => this.select({ systemId: `task:${id}`, taskId: id }));
      root.appendChild(group);
    }
    container.appendChild(root);
    this.canvas.show(root, FONT.small);
  }

  private updateStatuses(container: HTMLElement, workflow: WorkflowView): void {
    const { state } = this;
    let widened = false;
    for (const group of Array.from(container.querySelectorAll<SVGGElement>('g.task'))) {
      const id = group.getAttribute('data-task-id') ?? '';
      const task: TaskView | undefined = state.tasks.get(id);
      if (!task) continue;
      group.setAttribute('data-status', task.status);
      const selected = state.selected?.taskId === id;
      group.setAttribute('class', `task status-${task.status}${selected ? ' selected' : ''}`);
      let detail = task.status + (task.agentId ? ` · ${task.agentId}` : '') + (task.retryCount ? ` · retry ${task.retryCount}` : '');
      if (task.status === 'running' && task.progress) detail += ` · ${Math.round(task.progress * 100)}%`;
      const detailNode = group.querySelector('text.detail');
      if (detailNode) detailNode.textContent = detail;
      const title = group.querySelector('title');
      if (title) title.textContent = `${task.taskId} (${task.taskType}): ${task.state}${task.error ? ` — ${task.error}` : ''}`;
      // A detail longer than planned widens the box rather than spilling out of it.
      const rect = group.querySelector('rect');
      if (rect && detailNode instanceof SVGTextElement) {
        const needed = Math.ceil(detailNode.getComputedTextLength() + 2 * NODE_PAD);
        if (needed > Number(rect.getAttribute('width'))) {
          rect.setAttribute('width', String(needed));
          widened = true;
        }
      }
    }
    const root = container.querySelector('svg.dag');
    if (widened && root instanceof SVGSVGElement) this.canvas.show(root, FONT.small, true);
    container.setAttribute('data-finished', workflow.finished ? 'true' : 'false');
  }
}
