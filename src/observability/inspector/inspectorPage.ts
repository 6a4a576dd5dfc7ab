/**
 * The inspector page's HTML and CSS, kept as strings so that the compiled package serves
 * them from `dist/` without copying assets. The script is TypeScript in `page/` (see
 * `pageModules.ts`).
 * @internal
 */

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page: a live actor tree, the selected actor's statechart, the task DAG of a
 * workflow, the message sequence, conflicts with their votes, the swarm graph and recent
 * XState events.
 *
 * @example
 * ```ts
 * response.end(inspectorHtml('trading-desk'));
 * ```
 */
export function inspectorHtml(name: string, actionToken = ''): string {
  const title = escapeHtml(name);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="neuroflux-action-token" content="${escapeHtml(actionToken)}">
<title>NeuroFlux inspector — ${title}</title>
<link rel="stylesheet" href="/inspector.css">
<script src="/vendor/dagre.min.js"></script>
</head>
<body data-connection="connecting">
<header>
  <h1>NeuroFlux inspector <span id="runtime-name"></span></h1>
  <span id="connection" class="status connecting">connecting…</span>
  <span id="counts"></span>
</header>
<p id="sampling" class="note"></p>
<main>
  <section id="actors-panel" class="panel">
    <h2>Actors</h2>
    <div class="controls">
      <input id="actor-filter" type="search" placeholder="filter: id, system id">
      <label><input id="show-finished" type="checkbox" checked> finished</label>
    </div>
    <div id="actor-tree"></div>
  </section>
  <section id="workflow-panel" class="panel">
    <h2>Workflow <select id="workflow-select" aria-label="workflow"></select><span id="task-actions" class="actions"></span><span id="workflow-zoom" class="zoom"></span></h2>
    <div id="workflow-dag" class="canvas"></div>
  </section>
  <section id="statechart-panel" class="panel">
    <h2>Statechart <span id="statechart-title" class="subtitle"></span><span id="agent-actions" class="actions"></span><span id="statechart-zoom" class="zoom"></span></h2>
    <div id="statechart" class="canvas"></div>
  </section>
  <section id="sequence-panel" class="panel">
    <h2>Messages</h2>
    <div id="sequence" class="canvas"></div>
  </section>
  <section id="conflicts-panel" class="panel">
    <h2>Conflicts</h2>
    <div id="conflicts"></div>
  </section>
  <section id="swarm-panel" class="panel">
    <h2>Swarm</h2>
    <div id="swarm" class="canvas"></div>
  </section>
  <section id="events-panel" class="panel">
    <h2>XState events</h2>
    <ol id="events"></ol>
  </section>
</main>
<script type="module" src="/app/page/main.js"></script>
</body>
</html>
`;
}

/** The page's style sheet. @internal */
export const INSPECTOR_CSS = `
:root { --bg: #f6f7f9; --panel: #fff; --ink: #1d2330; --muted: #6b7385; --line: #d9dde5; --accent: #3867d6;
  --completed: #2e9d5b; --failed: #d64545; --running: #3867d6; --assigned: #7d5fd3; --pending: #a0a7b5; --cancelled: #8a8f99; --timeout: #e08a1e; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header { display: flex; gap: 14px; align-items: baseline; padding: 8px 14px; background: #1d2330; color: #fff; flex-wrap: wrap; }
header h1 { font-size: 16px; margin: 0; font-weight: 600; }
#counts { color: #c8cdd8; font-size: 12px; }
.status { padding: 1px 8px; border-radius: 10px; font-size: 12px; background: #555; }
.status.open { background: var(--completed); }
.status.closed { background: var(--failed); }
.note { margin: 4px 14px; color: var(--muted); font-size: 11.5px; }
main { display: grid; grid-template-columns: minmax(220px, 280px) repeat(3, minmax(0, 1fr)); grid-template-rows: minmax(300px, 1.25fr) minmax(250px, 1fr); gap: 10px; padding: 8px 14px 14px; height: calc(100vh - 84px); min-height: 600px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; overflow: hidden; min-width: 0; min-height: 0; display: flex; flex-direction: column; }
.panel > :not(h2):not(.controls) { flex: 1 1 auto; min-height: 0; overflow: auto; }
.panel h2 { font-size: 13px; margin: 0 0 6px; display: flex; flex-wrap: wrap; gap: 4px 8px; align-items: center; min-width: 0; flex: none; }
.panel h2 select { min-width: 6em; max-width: 45%; flex: 0 1 auto; font-size: 12px; }
.zoom, .actions { display: flex; gap: 3px; align-items: center; font-weight: 400; font-size: 12px; }
.zoom { margin-left: auto; }
.zoom button, .actions button { font: inherit; font-size: 12px; padding: 0 6px; border: 1px solid var(--line); border-radius: 4px; background: #f7f8fb; cursor: pointer; }
.actions button:disabled { cursor: default; color: var(--muted); }
.zoom-level { color: var(--muted); min-width: 3.2em; text-align: right; }
.action-result { color: var(--muted); }
.agent-paused { color: var(--failed); margin-right: 6px; }
.action-result.refused { color: var(--failed); }
.subtitle { font-weight: 400; color: var(--muted); font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; flex: 0 1 auto; }
#actors-panel { grid-column: 1; grid-row: 1; }
#workflow-panel { grid-column: 2; grid-row: 1; }
#statechart-panel { grid-column: 3 / span 2; grid-row: 1; }
#sequence-panel { grid-column: 2; }
#conflicts-panel { grid-column: 3; }
#swarm-panel { grid-column: 4; grid-row: 2; }
#events-panel { grid-column: 1; grid-row: 2; }
.controls { display: flex; gap: 8px; margin-bottom: 6px; }
.controls input[type=search] { flex: 1; min-width: 0; padding: 3px 6px; border: 1px solid var(--line); border-radius: 4px; font: inherit; }
.controls label { display: flex; gap: 3px; align-items: center; white-space: nowrap; }
.empty { color: var(--muted); }
ul.tree, ul.tree ul { list-style: none; margin: 0; padding-left: 12px; }
ul.tree { padding-left: 0; }
.actor .row { display: flex; gap: 6px; align-items: baseline; padding: 1px 4px; border-radius: 4px; cursor: pointer; white-space: nowrap; }
.actor .row:hover { background: #eef1f7; }
.actor.selected > .row { background: #dfe7fb; }
.actor .toggle { width: 10px; color: var(--muted); }
.actor .system-id { color: var(--accent); font-size: 11.5px; }
.actor .value { color: var(--muted); font-family: ui-monospace, monospace; font-size: 11.5px; overflow: hidden; text-overflow: ellipsis; }
.actor .count { color: var(--muted); font-size: 11.5px; }
.actor .load { color: var(--muted); font-family: ui-monospace, monospace; font-size: 11.5px; }
.actor .badge { font-size: 11px; color: var(--muted); border: 1px solid var(--line); border-radius: 6px; padding: 0 4px; }
.actor.status-stopped > .row .name, .actor.status-done > .row .name { color: var(--muted); }
.more { color: var(--muted); font-style: italic; padding-left: 18px; }
svg text { fill: var(--ink); }
svg.ruler { position: absolute; left: -9999px; top: 0; visibility: hidden; }
.canvas svg { display: block; }
.zoomable { cursor: grab; }
.zoomable.panning { cursor: grabbing; user-select: none; }
.edge, .transition { fill: none; stroke: #8d95a6; stroke-width: 1.3; }
.arrowhead { fill: #8d95a6; }
g.task { cursor: pointer; }
g.task rect { fill: #fff; stroke: var(--pending); stroke-width: 2; }
g.task text.title { font-weight: 600; }
g.task text.detail { fill: var(--muted); }
g.task.status-completed rect { stroke: var(--completed); fill: #eaf7ef; }
g.task.status-failed rect { stroke: var(--failed); fill: #fcecec; }
g.task.status-running rect { stroke: var(--running); fill: #eaf0fc; }
g.task.status-assigned rect { stroke: var(--assigned); fill: #f1edfb; }
g.task.status-cancelled rect { stroke: var(--cancelled); fill: #f1f2f4; stroke-dasharray: 4 3; }
g.task.status-timeout rect { stroke: var(--timeout); fill: #fdf3e6; }
g.task.selected rect { stroke-width: 3.5; }
g.cluster rect { fill: #f7f8fb; stroke: #c4cad6; stroke-dasharray: 3 3; }
g.cluster.active rect { stroke: var(--accent); stroke-dasharray: none; }
.cluster-label { fill: var(--muted); }
g.state rect { fill: #fff; stroke: #8d95a6; stroke-width: 1.5; }
g.state.initial rect { stroke-width: 2.5; }
g.state.kind-final rect.inner { fill: none; }
g.state.kind-any rect { stroke-dasharray: 3 2; fill: #fafafa; }
g.state.kind-any text { fill: var(--muted); font-style: italic; }
g.state.active rect { fill: #3867d6; stroke: #2448a6; }
g.state.active text { fill: #fff; font-weight: 600; }
.transition-label { fill: #4a5163; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.lifeline { stroke: #c4cad6; stroke-dasharray: 4 3; }
.lane { font-weight: 600; }
g.message line, g.message path { stroke: #6b7385; stroke-width: 1.3; fill: none; }
g.message.type-request line { stroke: var(--accent); }
g.message.type-response line { stroke: var(--completed); stroke-dasharray: 4 2; }
g.message.type-command line { stroke: var(--assigned); }
g.message.type-broadcast line, g.message.type-event line { stroke: var(--timeout); }
g.message.priority-critical text { fill: var(--failed); font-weight: 600; }
.conflict { border: 1px solid var(--line); border-left: 4px solid var(--timeout); border-radius: 6px; padding: 6px 8px; margin-bottom: 8px; }
.conflict.status-resolved { border-left-color: var(--completed); }
.conflict.status-escalated { border-left-color: var(--failed); }
.conflict h3, #conflicts h3 { font-size: 12px; margin: 6px 0; color: var(--muted); }
.conflict-head { font-weight: 600; }
.conflict-desc, .conflict-agents, .conflict-votes, .conflict-outcome { color: var(--muted); font-size: 12px; }
table.votes { border-collapse: collapse; margin: 4px 0; font-size: 12px; width: 100%; }
table.votes th, table.votes td { text-align: left; padding: 1px 6px 1px 0; border-bottom: 1px solid #eef0f4; }
table.votes tr.abstained td { color: var(--muted); font-style: italic; }
.connection { stroke: #3867d6; stroke-opacity: 0.55; }
#events { margin: 0; padding-left: 38px; font-family: ui-monospace, monospace; font-size: 11.5px; }
.event-type { font-weight: 600; }
.event-route { color: var(--muted); }
`;
