/** Open conflicts with their votes as they arrive, then the recently finished ones. */
import type { ConflictView } from '../inspectorProtocol.js';
import { byId, clear, el } from './dom.js';
import type { PageState } from './pageState.js';

const FINISHED = new Set(['resolved', 'escalated']);

export function renderConflicts(state: PageState): void {
  const container = byId('conflicts');
  clear(container);
  const all = Array.from(state.conflicts.values());
  if (all.length === 0) {
    container.appendChild(el('p', { class: 'empty' }, 'No conflict yet.'));
    return;
  }
  const open = all.filter((c) => !FINISHED.has(c.status));
  const done = all
    .filter((c) => FINISHED.has(c.status))
    .slice(-8)
    .reverse();
  container.appendChild(el('h3', null, `Open (${open.length})`));
  for (const c of open) container.appendChild(conflictCard(c));
  if (done.length) {
    container.appendChild(el('h3', null, 'Recently finished'));
    for (const c of done) container.appendChild(conflictCard(c));
  }
}

function conflictCard(c: ConflictView): HTMLElement {
  const card = el('div', { class: `conflict status-${c.status}`, 'data-conflict-id': c.conflictId });
  card.appendChild(
    el(
      'div',
      { class: 'conflict-head' },
      `${c.conflictType} · ${c.status} · severity ${c.severity.toFixed(2)}${c.strategy ? ` · ${c.strategy}` : ''}${c.algorithm ? ` / ${c.algorithm}` : ''}`,
    ),
  );
  if (c.description) card.appendChild(el('div', { class: 'conflict-desc' }, c.description));
  card.appendChild(el('div', { class: 'conflict-agents' }, `agents: ${c.involvedAgents.join(', ')}`));
  if (c.votes.length) {
    const table = el('table', { class: 'votes' });
    const head = el('tr');
    for (const h of ['agent', 'decision', 'confidence', 'stake']) head.appendChild(el('th', null, h));
    table.appendChild(head);
    for (const v of c.votes) {
      const tr = el('tr', { class: v.decision === null ? 'abstained' : '' });
      tr.appendChild(el('td', null, v.agentId));
      tr.appendChild(el('td', null, v.decision === null ? 'abstained' : v.decision));
      tr.appendChild(el('td', null, v.confidence.toFixed(2)));
      tr.appendChild(el('td', null, v.stake.toFixed(2)));
      table.appendChild(tr);
    }
    card.appendChild(table);
  } else card.appendChild(el('div', { class: 'conflict-votes' }, 'no vote yet'));
  if (c.outcome) {
    const o = c.outcome;
    card.appendChild(
      el(
        'div',
        { class: 'conflict-outcome' },
        `outcome: ${o.action}${o.decision !== null ? ` ${o.decision}` : ''} (confidence ${o.confidence.toFixed(2)})${o.reason ? ` — ${o.reason}` : ''}`,
      ),
    );
  }
  return card;
}
