/** The recent `@xstate.event`s, newest first. */
import { byId, clear, el } from './dom.js';
import { shortName, type PageState } from './pageState.js';

const MAX_EVENTS_SHOWN = 150;

export function renderEvents(state: PageState): void {
  const list = byId('events');
  clear(list);
  for (const e of state.events.slice(-MAX_EVENTS_SHOWN).reverse()) {
    const source = e.sourceId ? shortName(state.actors.get(e.sourceId)) : '—';
    const target = shortName(state.actors.get(e.targetId));
    const li = el('li');
    li.appendChild(el('span', { class: 'event-type' }, e.event.type));
    li.appendChild(el('span', { class: 'event-route' }, ` ${source} → ${target}`));
    list.appendChild(li);
  }
}
