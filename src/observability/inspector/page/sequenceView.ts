/**
 * A sequence view of the recent bus messages: one lane per participant, up to MAX_LANES
 * (past that the busiest are kept and the rest share an "(others)" lane). Lanes are as
 * wide as their names; when they do not fit the panel, the panel scrolls sideways rather
 * than folding agents away.
 */
import type { MessageView } from '../inspectorProtocol.js';
import { FONT, arrowMarker, byId, clear, el, shorten, svgEl, textWidth } from './dom.js';
import type { PageState } from './pageState.js';

const MAX_SEQUENCE_MESSAGES = 16;
export const MAX_LANES = 12;
const MIN_LANE_WIDTH = 96;
const MAX_LANE_LABEL = 28;
const OTHERS = '(others)';

function recipientLane(m: MessageView): string {
  return m.to ?? (m.messageType === 'broadcast' ? '(everyone)' : '(subscribers)');
}

/** The lanes to draw: every participant in order of appearance, or the busiest when there are too many. */
export function sequenceLanes(messages: readonly MessageView[], maxLanes = MAX_LANES): string[] {
  const counts = new Map<string, number>();
  const lanes: string[] = [];
  for (const m of messages) {
    for (const name of [m.from, recipientLane(m)]) {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      if (!lanes.includes(name)) lanes.push(name);
    }
  }
  if (lanes.length <= maxLanes) return lanes;
  const busiest = new Set(
    lanes
      .slice()
      .sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0))
      .slice(0, maxLanes - 1),
  );
  return [...lanes.filter((name) => busiest.has(name)), OTHERS];
}

export function renderSequence(state: PageState): void {
  const container = byId('sequence');
  clear(container);
  const messages = state.messages.slice(-MAX_SEQUENCE_MESSAGES);
  if (messages.length === 0) {
    container.appendChild(el('p', { class: 'empty' }, 'No message yet.'));
    return;
  }
  const lanes = sequenceLanes(messages);
  const laneOf = (name: string) => {
    const i = lanes.indexOf(name);
    return i >= 0 ? i : lanes.length - 1;
  };
  const labels = lanes.map((name) => shorten(name, MAX_LANE_LABEL));
  const widest = Math.max(...labels.map((label) => textWidth(label, FONT.small, true)));
  const fitted = Math.floor((container.clientWidth - 24) / lanes.length);
  // Names wider than a lane go on two staggered rows, so a lane needs only half a name's width.
  const staggered = fitted < widest + 16;
  const laneWidth = Math.max(MIN_LANE_WIDTH, Math.ceil(staggered ? widest / 2 + 14 : widest + 16), fitted);
  const rowHeight = 24;
  const top = staggered ? 52 : 36;
  const width = lanes.length * laneWidth + 20;
  const height = top + messages.length * rowHeight + 10;
  const root = svgEl('svg', { class: 'sequence', width, height, viewBox: `0 0 ${width} ${height}`, 'data-lanes': lanes.length });
  root.appendChild(arrowMarker('seq-arrow'));
  lanes.forEach((name, i) => {
    const x = 10 + i * laneWidth + laneWidth / 2;
    root.appendChild(svgEl('line', { class: 'lifeline', x1: x, y1: top - 8, x2: x, y2: height - 4 }));
    const y = staggered && i % 2 === 1 ? 36 : 18;
    const label = svgEl('text', { class: 'lane', x, y, 'text-anchor': 'middle', 'font-size': FONT.small, 'data-lane': name }, labels[i]);
    label.appendChild(svgEl('title', null, name));
    root.appendChild(label);
  });
  messages.forEach((m, row) => {
    const from = laneOf(m.from);
    const to = laneOf(recipientLane(m));
    const y = top + row * rowHeight + 14;
    const x1 = 10 + from * laneWidth + laneWidth / 2;
    const x2 = 10 + to * laneWidth + laneWidth / 2;
    const group = svgEl('g', { class: `message type-${m.messageType} priority-${m.priority}`, 'data-message-id': m.id });
    if (from === to) group.appendChild(svgEl('path', { d: `M ${x1} ${y - 6} h 24 v 10 h -22`, 'marker-end': 'url(#seq-arrow)' }));
    else group.appendChild(svgEl('line', { x1, y1: y, x2: x2 + (x2 > x1 ? -3 : 3), y2: y, 'marker-end': 'url(#seq-arrow)' }));
    const labelX = from === to ? x1 + 28 : (x1 + x2) / 2;
    const text = m.topic + (m.priority !== 'medium' ? ` (${m.priority})` : '');
    group.appendChild(svgEl('text', { x: labelX, y: y - 4, 'text-anchor': from === to ? 'start' : 'middle', 'font-size': FONT.tiny }, text));
    group.appendChild(
      svgEl('title', null, `${m.messageType} ${m.topic} from ${m.from} to ${m.to ?? '*'}, priority ${m.priority}${m.correlationId ? `, correlation ${m.correlationId}` : ''}`),
    );
    root.appendChild(group);
  });
  container.appendChild(root);
}
