/**
 * The selected actor's statechart: its machine (the graph the server derived from the
 * definition) laid out with dagre, compound states as clusters, the current state
 * highlighted and followed live.
 */
import type { StatechartGraph } from '../inspectorProtocol.js';
import { FONT, arrowMarker, byId, clear, el, pathOf, svgEl, textWidth, valueText } from './dom.js';
import { activePaths, shortName, type PageState } from './pageState.js';
import type { ZoomableCanvas } from './zoomableCanvas.js';

const STATE_HEIGHT = 34;
const STATE_PAD = 14;
const CLUSTER_LABEL_ROOM = 24;

export class StatechartView {
  private layoutKey = '';
  private lastActiveKey = '';

  constructor(
    private readonly state: PageState,
    private readonly canvas: ZoomableCanvas,
  ) {}

  invalidate(): void {
    this.layoutKey = '';
  }

  render(): void {
    const { state } = this;
    const container = byId('statechart');
    const title = byId('statechart-title');
    const frame = state.statechart;
    if (!state.selected) {
      title.textContent = '';
      clear(container);
      container.appendChild(el('p', { class: 'empty' }, 'Select an actor or a task.'));
      this.layoutKey = '';
      return;
    }
    if (!frame) {
      title.textContent = 'loading…';
      return;
    }
    const actor = frame.actorId ? state.actors.get(frame.actorId) : undefined;
    const value = actor ? actor.value : frame.value;
    const status = actor ? actor.status : frame.status;
    title.textContent = `${actor ? shortName(actor) : frame.systemId || frame.actorId || ''} — ${status ?? ''}${value !== null ? ` · ${valueText(value)}` : ''}`;
    title.setAttribute('title', title.textContent);
    container.setAttribute('data-actor-id', frame.actorId ?? '');
    container.setAttribute('data-system-id', frame.systemId ?? '');
    const graph = frame.logicId ? state.graphs.get(frame.logicId) : undefined;
    if (!graph) {
      clear(container);
      this.layoutKey = '';
      container.appendChild(el('p', { class: 'empty' }, frame.reason ?? 'No statechart.'));
      return;
    }
    // JSON, not joined: an actor id may hold '|'.
    const key = JSON.stringify([frame.actorId ?? null, frame.logicId]);
    if (key !== this.layoutKey) {
      this.layoutKey = key;
      this.layout(container, graph);
    }
    const paths = activePaths(value);
    const active = new Set(paths);
    let leaf: Element | null = null;
    for (const node of Array.from(container.querySelectorAll('[data-state-path]'))) {
      const on = active.has(node.getAttribute('data-state-path') ?? '');
      const base = node.getAttribute('data-base-class') ?? '';
      node.setAttribute('class', base + (on ? ' active' : ''));
      node.setAttribute('data-active', on ? 'true' : 'false');
      if (on && base.startsWith('state ')) leaf = node;
    }
    // Bring the current state into view when it changes (not on every update: the user may be panning).
    const activeKey = `${key}|${paths.join(',')}`;
    if (leaf && activeKey !== this.lastActiveKey) {
      this.lastActiveKey = activeKey;
      this.canvas.reveal(leaf);
    }
  }

  private layout(container: HTMLElement, graph: StatechartGraph): void {
    clear(container);
    const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
    g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 48, edgesep: 10, marginx: 12, marginy: 12 });
    const clusters = new Set<string>();
    for (const n of graph.nodes) if (n.kind === 'compound' || n.kind === 'parallel') clusters.add(n.path);
    for (const n of graph.nodes) {
      if (clusters.has(n.path)) g.setNode(n.path, { width: 0, height: 0, paddingTop: CLUSTER_LABEL_ROOM });
      else if (n.kind === 'any') g.setNode(n.path, { width: Math.ceil(textWidth('any', FONT.label) + 2 * STATE_PAD), height: STATE_HEIGHT - 6 });
      else g.setNode(n.path, { width: Math.ceil(textWidth(n.key, FONT.label, true) + 2 * STATE_PAD), height: STATE_HEIGHT });
    }
    for (const n of graph.nodes) if (n.parent !== null && clusters.has(n.parent)) g.setParent(n.path, n.parent);
    graph.edges.forEach((e, i) => {
      if (!g.hasNode(e.source) || !g.hasNode(e.target)) return;
      g.setEdge(e.source, e.target, { label: e.label, width: Math.ceil(textWidth(e.label, FONT.tiny) + 8), height: FONT.tiny + 6, labelpos: 'c' }, `e${i}`);
    });
    dagre.layout(g);
    const size = g.graph();
    const root = svgEl('svg', { class: 'statechart', width: size.width ?? 0, height: size.height ?? 0, 'data-machine-id': graph.machineId });
    root.appendChild(arrowMarker('chart-arrow'));
    // Clusters first (behind), then edges, then states.
    for (const n of graph.nodes) {
      if (!clusters.has(n.path)) continue;
      const box = g.node(n.path);
      const left = (box.x ?? 0) - box.width / 2;
      const top = (box.y ?? 0) - box.height / 2;
      const group = svgEl('g', { class: 'cluster', 'data-state-path': n.path, 'data-base-class': 'cluster' });
      group.appendChild(svgEl('rect', { x: left, y: top, width: box.width, height: box.height, rx: 8 }));
      group.appendChild(svgEl('text', { x: left + 8, y: top + 16, class: 'cluster-label', 'font-size': FONT.small }, n.key));
      root.appendChild(group);
    }
    for (const e of g.edges()) {
      const edge = g.edge(e) as { points?: { x: number; y: number }[]; label?: string; x?: number; y?: number };
      root.appendChild(svgEl('path', { class: 'transition', d: pathOf(edge.points), 'marker-end': 'url(#chart-arrow)' }));
      if (edge.label && edge.x !== undefined && edge.y !== undefined) {
        root.appendChild(svgEl('text', { class: 'transition-label', x: edge.x, y: edge.y + 4, 'text-anchor': 'middle', 'font-size': FONT.tiny }, edge.label));
      }
    }
    for (const n of graph.nodes) {
      if (clusters.has(n.path)) continue;
      const box = g.node(n.path);
      const base = `state kind-${n.kind}${n.initial ? ' initial' : ''}`;
      const group = svgEl('g', {
        class: base,
        'data-state-path': n.path,
        'data-base-class': base,
        transform: `translate(${(box.x ?? 0) - box.width / 2},${(box.y ?? 0) - box.height / 2})`,
      });
      group.appendChild(svgEl('rect', { width: box.width, height: box.height, rx: n.kind === 'any' ? 12 : 6 }));
      if (n.kind === 'final') group.appendChild(svgEl('rect', { x: 3, y: 3, width: box.width - 6, height: box.height - 6, rx: 4, class: 'inner' }));
      group.appendChild(svgEl('text', { x: box.width / 2, y: box.height / 2 + 5, 'text-anchor': 'middle', 'font-size': FONT.label }, n.kind === 'any' ? 'any' : n.key));
      group.appendChild(svgEl('title', null, n.path || n.key));
      root.appendChild(group);
    }
    container.appendChild(root);
    this.canvas.show(root, FONT.tiny);
  }
}
