/**
 * The swarm network: agents on a circle coloured by learned performance, connections drawn
 * thicker as their strength grows. Drawn at scale 1 (text keeps its size) and sized to
 * everything drawn, labels included, so that no label is cut; a network larger than the
 * panel scrolls.
 */
import { FONT, arrowMarker, byId, clear, el, shorten, svgEl, textWidth } from './dom.js';
import type { PageState } from './pageState.js';

const NODE_RADIUS = 9;
const MAX_LABEL = 24;
const PADDING = 6;

export function renderSwarm(state: PageState): void {
  const container = byId('swarm');
  clear(container);
  const swarm = state.swarm;
  if (!swarm || swarm.neurons.length === 0) {
    container.appendChild(el('p', { class: 'empty' }, 'No agent in the swarm yet.'));
    return;
  }
  const n = swarm.neurons.length;
  const labels = new Map(swarm.neurons.map((neuron) => [neuron.agentId, shorten(neuron.agentId, MAX_LABEL)]));
  const halfLabel = Math.max(...Array.from(labels.values(), (label) => textWidth(label, FONT.tiny))) / 2;
  const room = Math.min(container.clientWidth - 2 * halfLabel - 2 * PADDING, container.clientHeight - 2 * (NODE_RADIUS + FONT.tiny + 12));
  // Neighbours on the circle at least a label apart when there are few, at least a node apart when many.
  const spacing = n <= 12 ? 2 * halfLabel * 0.8 : 3 * NODE_RADIUS;
  const radius = n === 1 ? 0 : Math.max(room / 2, (n * spacing) / (2 * Math.PI), 40);
  const centre = radius + halfLabel + PADDING;
  const pos = new Map<string, { x: number; y: number }>();
  swarm.neurons.forEach((neuron, i) => {
    const angle = (2 * Math.PI * i) / n - Math.PI / 2;
    pos.set(neuron.agentId, { x: centre + radius * Math.cos(angle), y: centre + radius * Math.sin(angle) });
  });
  const root = svgEl('svg', { class: 'swarm' });
  root.appendChild(arrowMarker('swarm-arrow'));
  for (const c of swarm.connections) {
    const a = pos.get(c.source);
    const b = pos.get(c.target);
    if (!a || !b) continue;
    // Both directions of a pair are drawn side by side, not on top of each other.
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const len = Math.sqrt(dx * dx + dy * dy) || 1;
    const ox = (-dy / len) * 3;
    const oy = (dx / len) * 3;
    const line = svgEl('line', {
      class: 'connection',
      x1: a.x + ox,
      y1: a.y + oy,
      x2: b.x + ox,
      y2: b.y + oy,
      'stroke-width': (0.5 + c.strength * 6).toFixed(2),
      'data-connection-id': c.id,
      'data-strength': c.strength.toFixed(3),
    });
    line.appendChild(svgEl('title', null, `${c.source} → ${c.target}: strength ${c.strength.toFixed(3)}`));
    root.appendChild(line);
  }
  for (const neuron of swarm.neurons) {
    const p = pos.get(neuron.agentId);
    if (!p) continue;
    const group = svgEl('g', { class: 'neuron', 'data-agent-id': neuron.agentId });
    const hue = Math.round(120 * Math.max(0, Math.min(1, neuron.performance)));
    group.appendChild(svgEl('circle', { cx: p.x, cy: p.y, r: NODE_RADIUS, fill: `hsl(${hue},60%,55%)` }));
    group.appendChild(svgEl('text', { x: p.x, y: p.y + NODE_RADIUS + FONT.tiny + 3, 'text-anchor': 'middle', 'font-size': FONT.tiny }, labels.get(neuron.agentId)));
    group.appendChild(svgEl('title', null, `${neuron.agentId}: performance ${neuron.performance.toFixed(2)}, fired ${neuron.fireCount}`));
    root.appendChild(group);
  }
  container.appendChild(root);
  // Sized to what was drawn, at scale 1: nothing cut, text at its own size.
  const box = root.getBBox();
  const x = Math.floor(box.x - PADDING);
  const y = Math.floor(box.y - PADDING);
  const width = Math.ceil(box.width + 2 * PADDING);
  const height = Math.ceil(box.height + 2 * PADDING);
  root.setAttribute('viewBox', `${x} ${y} ${width} ${height}`);
  root.setAttribute('width', String(width));
  root.setAttribute('height', String(height));
  if (swarm.truncated) container.appendChild(el('p', { class: 'note' }, 'Showing the strongest connections only.'));
}
