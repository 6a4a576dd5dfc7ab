/**
 * The actor tree: children lists are capped and collapsed subtrees are not rendered, so
 * the DOM stays small with thousands of actors.
 */
import type { ActorView } from '../inspectorProtocol.js';
import { byId, clear, el, fmt, loadText, valueText } from './dom.js';
import type { PageState, Selection } from './pageState.js';

const MAX_TREE_CHILDREN = 200;

export interface TreeHooks {
  select(target: Selection): void;
  redraw(): void;
}

/**
 * Selects an actor when a press and its release fall on rows of the same actor. The tree is
 * rebuilt on every update (each sample, 100 ms when busy), so a click's press and release
 * could land on two different row elements of one actor: the browser then gives the `click`
 * to their common ancestor, and a listener on the row never heard it (a click lost, seen in a
 * loaded CI run of the browser test). Delegated to the tree's container, by actor id, this
 * survives the rebuild. Call once.
 */
export function listenForSelection(hooks: Pick<TreeHooks, 'select'>): void {
  const container = byId('actor-tree');
  let pressed: string | null = null;
  const rowActor = (event: Event): string | null => {
    const target = event.target as Element | null;
    // The expand toggle has its own click.
    if (!target || target.closest('.toggle')) return null;
    const row = target.closest('div.row');
    return row?.parentElement?.getAttribute('data-actor-id') ?? null;
  };
  container.addEventListener('pointerdown', (event) => {
    pressed = event.button === 0 ? rowActor(event) : null;
  });
  container.addEventListener('pointerup', (event) => {
    const actorId = rowActor(event);
    if (actorId !== null && actorId === pressed) hooks.select({ actorId });
    pressed = null;
  });
}

export function renderTree(state: PageState, hooks: TreeHooks): void {
  const container = byId('actor-tree');
  clear(container);
  const filter = byId<HTMLInputElement>('actor-filter').value.trim().toLowerCase();
  const showFinished = byId<HTMLInputElement>('show-finished').checked;
  const visible = (a: ActorView) => showFinished || a.status === 'active';
  if (filter) {
    const list = el('ul', { class: 'tree flat' });
    let shown = 0;
    for (const a of state.actors.values()) {
      if (shown >= MAX_TREE_CHILDREN) break;
      if (!visible(a)) continue;
      const hay = `${a.name} ${a.systemId ?? ''} ${a.id}`.toLowerCase();
      if (!hay.includes(filter)) continue;
      list.appendChild(actorItem(state, hooks, a, 0, null));
      shown++;
    }
    container.appendChild(list);
    return;
  }
  const children = new Map<string, ActorView[]>();
  const roots: ActorView[] = [];
  for (const a of state.actors.values()) {
    if (!visible(a)) continue;
    if (a.parentId && state.actors.has(a.parentId)) {
      let list = children.get(a.parentId);
      if (!list) children.set(a.parentId, (list = []));
      list.push(a);
    } else roots.push(a);
  }
  const ul = el('ul', { class: 'tree' });
  for (const a of roots.slice(0, MAX_TREE_CHILDREN)) ul.appendChild(actorItem(state, hooks, a, 0, children));
  if (roots.length > MAX_TREE_CHILDREN) ul.appendChild(el('li', { class: 'more' }, `+${fmt(roots.length - MAX_TREE_CHILDREN)} more`));
  container.appendChild(ul);
}

function isExpanded(state: PageState, actor: ActorView, depth: number, kids: readonly ActorView[]): boolean {
  if (state.expanded.has(actor.id)) return true;
  if (state.collapsed.has(actor.id)) return false;
  return depth < 2 && kids.length <= 64;
}

function actorItem(state: PageState, hooks: TreeHooks, actor: ActorView, depth: number, children: Map<string, ActorView[]> | null): HTMLLIElement {
  const kids = children?.get(actor.id) ?? [];
  const selected = state.selected?.actorId === actor.id;
  const li = el('li', { class: `actor status-${actor.status}${selected ? ' selected' : ''}`, 'data-actor-id': actor.id, 'data-system-id': actor.systemId ?? undefined });
  const row = el('div', { class: 'row', title: actor.systemId ? `${actor.name} (${actor.systemId})` : actor.name });
  const expanded = kids.length > 0 && isExpanded(state, actor, depth, kids);
  const toggle = el('span', { class: 'toggle' }, kids.length ? (expanded ? '▾' : '▸') : '·');
  toggle.addEventListener('click', (event) => {
    event.stopPropagation();
    if (expanded) {
      state.expanded.delete(actor.id);
      state.collapsed.add(actor.id);
    } else {
      state.collapsed.delete(actor.id);
      state.expanded.add(actor.id);
    }
    hooks.redraw();
  });
  row.appendChild(toggle);
  row.appendChild(el('span', { class: 'name' }, actor.name));
  if (actor.systemId && actor.systemId !== actor.name) row.appendChild(el('span', { class: 'system-id' }, actor.systemId));
  if (actor.value !== null) row.appendChild(el('span', { class: 'value' }, valueText(actor.value)));
  // Agents show their work beside their state (`online.busy 3/4`).
  const load = loadText(actor.context);
  if (load !== null) row.appendChild(el('span', { class: 'load', title: 'load / capacity' }, load));
  if (kids.length) row.appendChild(el('span', { class: 'count' }, String(kids.length)));
  if (actor.status !== 'active') row.appendChild(el('span', { class: 'badge' }, actor.status));
  li.appendChild(row);
  if (expanded) {
    const ul = el('ul');
    // A runtime's root (an inspector attached over NATS) does not count as a level: its
    // tree opens as deep as a single runtime's does.
    const childDepth = actor.systemId?.startsWith('runtime:') ? depth : depth + 1;
    for (const k of kids.slice(0, MAX_TREE_CHILDREN)) ul.appendChild(actorItem(state, hooks, k, childDepth, children));
    if (kids.length > MAX_TREE_CHILDREN) ul.appendChild(el('li', { class: 'more' }, `+${fmt(kids.length - MAX_TREE_CHILDREN)} more (use the filter)`));
    li.appendChild(ul);
  }
  return li;
}
