/**
 * The inspector page's script, served as `/inspector.js`. It is plain browser JavaScript
 * kept as a string so that the compiled package (`dist/`) serves it without copying
 * assets. It lays graphs out with dagre (`/vendor/dagre.min.js`, served from
 * `node_modules`, so the page needs no internet).
 *
 * Written without template literals, so that it can live in this `String.raw` literal;
 * `test/inspectorServer.test.ts` compiles it to catch syntax errors.
 * @internal
 */
export const INSPECTOR_SCRIPT = String.raw`
(function () {
  'use strict';
  var SVG = 'http://www.w3.org/2000/svg';
  var MAX_TREE_CHILDREN = 200;
  var MAX_EVENTS_SHOWN = 150;
  var MAX_SEQUENCE_MESSAGES = 16;
  var MAX_LANES = 10;
  var FINAL_TASK = { completed: 1, failed: 1, cancelled: 1, timeout: 1 };

  var state = {
    actors: new Map(),
    events: [],
    eventBuffer: 1000,
    messages: [],
    messageBuffer: 1000,
    deadLetters: [],
    tasks: new Map(),
    workflows: new Map(),
    workflowOrder: [],
    conflicts: new Map(),
    swarm: null,
    stats: null,
    sampling: null,
    name: '',
    selected: null,
    followWorkflow: true,
    selectedWorkflow: null,
    graphs: new Map(),
    statechart: null,
    expanded: new Set(),
    collapsed: new Set(),
  };
  var dirty = { tree: true, dag: true, dagStatus: true, chart: true, sequence: true, conflicts: true, swarm: true, events: true, header: true };
  var socket = null;
  var renderScheduled = false;
  var dagLayoutKey = '';
  var chartLayoutKey = '';
  var lastActiveKey = '';

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) node.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) node.setAttribute(k, String(attrs[k]));
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function fmt(n) { return typeof n === 'number' ? n.toLocaleString('en-US') : String(n); }
  function pct(part, whole) { return whole > 0 ? (100 * part / whole).toFixed(1) + ' %' : '0 %'; }
  function valueText(value) {
    if (value === null || value === undefined) return '';
    if (typeof value === 'string') return value;
    return JSON.stringify(value);
  }
  function shortName(actor) {
    if (!actor) return '?';
    return actor.systemId || actor.name || actor.id;
  }
  function activePaths(value, prefix) {
    prefix = prefix || '';
    if (typeof value === 'string') return [prefix ? prefix + '.' + value : value];
    if (!value || typeof value !== 'object') return [];
    var out = [];
    Object.keys(value).forEach(function (key) {
      var path = prefix ? prefix + '.' + key : key;
      out.push(path);
      out = out.concat(activePaths(value[key], path));
    });
    return out;
  }
  function textWidth(text, size) { return Math.max(40, String(text).length * (size || 12) * 0.62 + 16); }
  // Shrinks a drawing to its panel, but not below minScale (past that the panel scrolls):
  // a statechart scaled to a thumbnail is unreadable.
  function fit(root, container, width, height, minScale) {
    var availableWidth = Math.max(100, container.clientWidth - 4);
    var availableHeight = Math.max(100, container.clientHeight - 4);
    var scale = Math.max(minScale, Math.min(1, availableWidth / width, availableHeight / height));
    root.setAttribute('width', String(Math.round(width * scale)));
    root.setAttribute('height', String(Math.round(height * scale)));
    root.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
  }

  // ------------------------------------------------------------------ connection

  function connect() {
    var protocol = location.protocol === 'https:' ? 'wss://' : 'ws://';
    socket = new WebSocket(protocol + location.host + '/ws');
    setConnection('connecting', 'connecting…');
    socket.onopen = function () { setConnection('open', 'live'); };
    socket.onclose = function () {
      setConnection('closed', 'disconnected — retrying');
      setTimeout(connect, 1000);
    };
    socket.onmessage = function (message) {
      var frame;
      try { frame = JSON.parse(message.data); } catch (e) { return; }
      receive(frame);
    };
  }
  function setConnection(kind, text) {
    var node = $('connection');
    node.className = 'status ' + kind;
    node.textContent = text;
    document.body.setAttribute('data-connection', kind);
  }
  function send(frame) {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify(frame));
  }

  function receive(frame) {
    switch (frame.type) {
      case 'hello':
        state.name = frame.name;
        break;
      case 'snapshot':
        state.actors = new Map();
        state.tasks = new Map();
        state.workflows = new Map();
        state.workflowOrder = [];
        state.conflicts = new Map();
        state.events = [];
        state.messages = [];
        state.deadLetters = [];
        applyActors(frame.actors, []);
        state.events = frame.events.slice(-state.eventBuffer);
        state.messages = frame.messages.slice(-state.messageBuffer);
        state.deadLetters = frame.deadLetters.slice();
        applyTasks(frame.tasks, [], frame.workflows, []);
        applyConflicts(frame.conflicts, []);
        state.swarm = frame.swarm;
        state.stats = frame.stats;
        state.sampling = frame.sampling;
        document.body.setAttribute('data-snapshot', 'received');
        markAll();
        if (state.selected) requestStatechart(state.selected);
        break;
      case 'delta':
        applyActors(frame.actors, frame.removedActors);
        if (frame.events.length) state.events = state.events.concat(frame.events).slice(-state.eventBuffer);
        if (frame.messages.length) state.messages = state.messages.concat(frame.messages).slice(-state.messageBuffer);
        if (frame.deadLetters.length) state.deadLetters = state.deadLetters.concat(frame.deadLetters).slice(-200);
        applyTasks(frame.tasks, frame.removedTasks, frame.workflows, frame.removedWorkflows);
        applyConflicts(frame.conflicts, frame.removedConflicts);
        if (frame.swarm) { state.swarm = frame.swarm; dirty.swarm = true; }
        if (frame.stats) state.stats = frame.stats;
        state.sampling = frame.sampling;
        dirty.header = true;
        if (frame.events.length) dirty.events = true;
        if (frame.messages.length) dirty.sequence = true;
        document.body.setAttribute('data-seq', String(frame.seq));
        break;
      case 'statechart':
        receiveStatechart(frame);
        break;
      default:
        return;
    }
    scheduleRender();
  }

  function markAll() { for (var k in dirty) dirty[k] = true; }

  function applyActors(actors, removed) {
    if (!actors.length && !removed.length) return;
    for (var i = 0; i < actors.length; i++) {
      var actor = actors[i];
      state.actors.set(actor.id, actor);
      if (state.selected && state.statechart && (actor.id === state.statechart.actorId)) dirty.chart = true;
    }
    for (var j = 0; j < removed.length; j++) state.actors.delete(removed[j]);
    dirty.tree = true;
    dirty.header = true;
  }

  function applyTasks(tasks, removedTasks, workflows, removedWorkflows) {
    for (var i = 0; i < tasks.length; i++) {
      var task = tasks[i];
      var before = state.tasks.get(task.taskId);
      state.tasks.set(task.taskId, task);
      if (!before || before.workflowId !== task.workflowId) dirty.dag = true;
      dirty.dagStatus = true;
    }
    for (var j = 0; j < removedTasks.length; j++) state.tasks.delete(removedTasks[j]);
    for (var k = 0; k < workflows.length; k++) {
      var workflow = workflows[k];
      var known = state.workflows.get(workflow.workflowId);
      if (!known) state.workflowOrder.push(workflow.workflowId);
      if (!known || known.taskIds.length !== workflow.taskIds.length) dirty.dag = true;
      state.workflows.set(workflow.workflowId, workflow);
      dirty.dagStatus = true;
    }
    for (var m = 0; m < removedWorkflows.length; m++) {
      state.workflows.delete(removedWorkflows[m]);
      var index = state.workflowOrder.indexOf(removedWorkflows[m]);
      if (index >= 0) state.workflowOrder.splice(index, 1);
      dirty.dag = true;
    }
    if (tasks.length || workflows.length || removedTasks.length || removedWorkflows.length) dirty.header = true;
  }

  function applyConflicts(conflicts, removed) {
    for (var i = 0; i < conflicts.length; i++) state.conflicts.set(conflicts[i].conflictId, conflicts[i]);
    for (var j = 0; j < removed.length; j++) state.conflicts.delete(removed[j]);
    if (conflicts.length || removed.length) dirty.conflicts = true;
  }

  // ------------------------------------------------------------------ rendering

  function scheduleRender() {
    if (renderScheduled) return;
    renderScheduled = true;
    requestAnimationFrame(function () {
      renderScheduled = false;
      render();
    });
  }

  function render() {
    if (dirty.header) { renderHeader(); dirty.header = false; }
    if (dirty.tree) { renderTree(); dirty.tree = false; }
    if (dirty.dag || dirty.dagStatus) { renderWorkflows(); dirty.dag = false; dirty.dagStatus = false; }
    if (dirty.chart) { renderStatechart(); dirty.chart = false; }
    if (dirty.sequence) { renderSequence(); dirty.sequence = false; }
    if (dirty.conflicts) { renderConflicts(); dirty.conflicts = false; }
    if (dirty.swarm) { renderSwarm(); dirty.swarm = false; }
    if (dirty.events) { renderEvents(); dirty.events = false; }
  }

  function renderHeader() {
    $('runtime-name').textContent = state.name ? '— ' + state.name : '';
    var live = 0;
    var finished = 0;
    state.actors.forEach(function (a) { if (a.status === 'active') live++; else finished++; });
    var parts = ['actors ' + fmt(live) + ' live, ' + fmt(finished) + ' finished', 'tasks ' + fmt(state.tasks.size), 'workflows ' + fmt(state.workflows.size)];
    var s = state.stats;
    if (s) {
      parts.push('messages sent ' + fmt(s.bus.messagesSent) + ', dead letters ' + fmt(s.bus.deadLetters.total));
      parts.push('tasks completed ' + fmt(s.orchestrator.tasksCompleted) + ', failed ' + fmt(s.orchestrator.tasksFailed));
      parts.push('conflicts resolved ' + fmt(s.conflicts.conflictsResolved) + ', escalated ' + fmt(s.conflicts.conflictsEscalated));
    }
    $('counts').textContent = parts.join(' · ');
    var sm = state.sampling;
    if (sm) {
      $('sampling').textContent =
        'Sampling: XState events — the newest ' + fmt(sm.eventsPerFlush) + ' per ' + sm.flushIntervalMs + ' ms are kept, the page keeps ' +
        fmt(sm.eventBuffer) + ' (' + fmt(sm.eventsDropped) + ' of ' + fmt(sm.eventsSeen) + ' dropped, ' + pct(sm.eventsDropped, sm.eventsSeen) + '); ' +
        'bus messages — the newest ' + fmt(sm.messagesPerFlush) + ' per ' + sm.flushIntervalMs + ' ms (' + fmt(sm.messagesDropped) + ' of ' +
        fmt(sm.messagesSeen) + ' dropped); actor states are coalesced to one update per actor per ' + sm.flushIntervalMs + ' ms; ' +
        'tracking ' + fmt(sm.actorsTracked) + ' live actors (limit ' + fmt(sm.actorLimit) + ', ' + fmt(sm.actorsUntracked) + ' untracked) and the last ' +
        fmt(sm.finishedKept) + ' finished ones.';
      state.eventBuffer = sm.eventBuffer || 1000;
    }
  }

  // Actor tree: children lists are capped and collapsed subtrees are not rendered, so the
  // DOM stays small with thousands of actors.
  function renderTree() {
    var container = $('actor-tree');
    clear(container);
    var filter = $('actor-filter').value.trim().toLowerCase();
    var showFinished = $('show-finished').checked;
    var visible = function (a) { return showFinished || a.status === 'active'; };
    if (filter) {
      var list = el('ul', { class: 'tree flat' });
      var shown = 0;
      state.actors.forEach(function (a) {
        if (shown >= MAX_TREE_CHILDREN || !visible(a)) return;
        var hay = (a.name + ' ' + (a.systemId || '') + ' ' + a.id).toLowerCase();
        if (hay.indexOf(filter) < 0) return;
        list.appendChild(actorItem(a, 0, null));
        shown++;
      });
      container.appendChild(list);
      return;
    }
    var children = new Map();
    var roots = [];
    state.actors.forEach(function (a) {
      if (!visible(a)) return;
      if (a.parentId && state.actors.has(a.parentId)) {
        var list = children.get(a.parentId);
        if (!list) children.set(a.parentId, (list = []));
        list.push(a);
      } else roots.push(a);
    });
    var ul = el('ul', { class: 'tree' });
    roots.slice(0, MAX_TREE_CHILDREN).forEach(function (a) { ul.appendChild(actorItem(a, 0, children)); });
    if (roots.length > MAX_TREE_CHILDREN) ul.appendChild(el('li', { class: 'more' }, '+' + fmt(roots.length - MAX_TREE_CHILDREN) + ' more'));
    container.appendChild(ul);
  }

  function isExpanded(actor, depth, kids) {
    if (state.expanded.has(actor.id)) return true;
    if (state.collapsed.has(actor.id)) return false;
    return depth < 2 && kids.length <= 64;
  }

  function actorItem(actor, depth, children) {
    var kids = children ? children.get(actor.id) || [] : [];
    var li = el('li', { class: 'actor status-' + actor.status + (state.selected && state.selected.actorId === actor.id ? ' selected' : ''), 'data-actor-id': actor.id, 'data-system-id': actor.systemId || undefined });
    var row = el('div', { class: 'row' });
    var toggle = el('span', { class: 'toggle' }, kids.length ? (isExpanded(actor, depth, kids) ? '▾' : '▸') : '·');
    toggle.onclick = function (e) {
      e.stopPropagation();
      if (isExpanded(actor, depth, kids)) { state.expanded.delete(actor.id); state.collapsed.add(actor.id); }
      else { state.collapsed.delete(actor.id); state.expanded.add(actor.id); }
      dirty.tree = true;
      scheduleRender();
    };
    row.appendChild(toggle);
    row.appendChild(el('span', { class: 'name' }, actor.name));
    if (actor.systemId && actor.systemId !== actor.name) row.appendChild(el('span', { class: 'system-id' }, actor.systemId));
    if (actor.value !== null) row.appendChild(el('span', { class: 'value' }, valueText(actor.value)));
    if (kids.length) row.appendChild(el('span', { class: 'count' }, String(kids.length)));
    if (actor.status !== 'active') row.appendChild(el('span', { class: 'badge' }, actor.status));
    row.onclick = function () { select({ actorId: actor.id }); };
    li.appendChild(row);
    if (kids.length && isExpanded(actor, depth, kids)) {
      var ul = el('ul');
      kids.slice(0, MAX_TREE_CHILDREN).forEach(function (k) { ul.appendChild(actorItem(k, depth + 1, children)); });
      if (kids.length > MAX_TREE_CHILDREN) ul.appendChild(el('li', { class: 'more' }, '+' + fmt(kids.length - MAX_TREE_CHILDREN) + ' more (use the filter)'));
      li.appendChild(ul);
    }
    return li;
  }

  // ------------------------------------------------------------------ workflows

  function currentWorkflow() {
    if (!state.followWorkflow && state.selectedWorkflow && state.workflows.has(state.selectedWorkflow)) return state.workflows.get(state.selectedWorkflow);
    for (var i = state.workflowOrder.length - 1; i >= 0; i--) {
      var w = state.workflows.get(state.workflowOrder[i]);
      if (w) return w;
    }
    return null;
  }

  function renderWorkflowSelect(current) {
    var select = $('workflow-select');
    clear(select);
    select.appendChild(el('option', { value: '' }, 'newest (follow)'));
    state.workflowOrder.slice().reverse().slice(0, 50).forEach(function (id) {
      var w = state.workflows.get(id);
      if (!w) return;
      var done = 0;
      w.taskIds.forEach(function (t) { var task = state.tasks.get(t); if (task && FINAL_TASK[task.status]) done++; });
      var option = el('option', { value: id }, id + ' — ' + done + '/' + w.taskIds.length + (w.finished ? ' ✓' : ''));
      select.appendChild(option);
    });
    select.value = state.followWorkflow || !current ? '' : current.workflowId;
  }

  function renderWorkflows() {
    var workflow = currentWorkflow();
    renderWorkflowSelect(workflow);
    var container = $('workflow-dag');
    if (!workflow) {
      clear(container);
      container.appendChild(el('p', { class: 'empty' }, 'No task yet.'));
      dagLayoutKey = '';
      return;
    }
    var key = workflow.workflowId + ':' + workflow.taskIds.join(',');
    if (key !== dagLayoutKey) {
      dagLayoutKey = key;
      layoutDag(container, workflow);
    }
    updateDagStatuses(container, workflow);
  }

  function layoutDag(container, workflow) {
    clear(container);
    var g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: 'TB', nodesep: 18, ranksep: 34, marginx: 10, marginy: 10 });
    g.setDefaultEdgeLabel(function () { return {}; });
    workflow.taskIds.forEach(function (id) {
      var task = state.tasks.get(id);
      var label = task ? task.name : id;
      g.setNode(id, { width: Math.max(textWidth(label, 12), 170), height: 44 });
    });
    workflow.taskIds.forEach(function (id) {
      var task = state.tasks.get(id);
      if (!task) return;
      task.dependencies.forEach(function (dep) { if (g.hasNode(dep)) g.setEdge(dep, id); });
    });
    dagre.layout(g);
    var graph = g.graph();
    var root = svg('svg', { class: 'dag', width: graph.width, height: graph.height, viewBox: '0 0 ' + graph.width + ' ' + graph.height, 'data-workflow-id': workflow.workflowId });
    root.appendChild(arrowMarker('dag-arrow'));
    g.edges().forEach(function (e) {
      var points = g.edge(e).points;
      root.appendChild(svg('path', { class: 'edge', d: pathOf(points), 'marker-end': 'url(#dag-arrow)' }));
    });
    g.nodes().forEach(function (id) {
      var n = g.node(id);
      var task = state.tasks.get(id);
      var group = svg('g', { class: 'task', 'data-task-id': id, transform: 'translate(' + (n.x - n.width / 2) + ',' + (n.y - n.height / 2) + ')' });
      group.appendChild(svg('rect', { width: n.width, height: n.height, rx: 6 }));
      group.appendChild(svg('text', { x: 8, y: 17, class: 'title' }, task ? task.name : id));
      group.appendChild(svg('text', { x: 8, y: 34, class: 'detail' }, ''));
      group.onclick = function () { select({ systemId: 'task:' + id, taskId: id }); };
      root.appendChild(group);
    });
    container.appendChild(root);
    fit(root, container, graph.width, graph.height, 0.6);
  }

  function updateDagStatuses(container, workflow) {
    var groups = container.querySelectorAll('g.task');
    for (var i = 0; i < groups.length; i++) {
      var group = groups[i];
      var id = group.getAttribute('data-task-id');
      var task = state.tasks.get(id);
      if (!task) continue;
      group.setAttribute('data-status', task.status);
      var selected = state.selected && state.selected.taskId === id;
      group.setAttribute('class', 'task status-' + task.status + (selected ? ' selected' : ''));
      var detail = task.status + (task.agentId ? ' · ' + task.agentId : '') + (task.retryCount ? ' · retry ' + task.retryCount : '');
      if (task.status === 'running' && task.progress) detail += ' · ' + Math.round(task.progress * 100) + '%';
      group.querySelector('text.detail').textContent = detail;
      var title = group.querySelector('title') || group.appendChild(svg('title'));
      title.textContent = task.taskId + ' (' + task.taskType + '): ' + task.state + (task.error ? ' — ' + task.error : '');
    }
    container.setAttribute('data-finished', workflow.finished ? 'true' : 'false');
  }

  function arrowMarker(id) {
    var defs = svg('defs');
    var marker = svg('marker', { id: id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    marker.appendChild(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }));
    defs.appendChild(marker);
    return defs;
  }

  function pathOf(points) {
    if (!points || !points.length) return '';
    var d = 'M ' + points[0].x + ' ' + points[0].y;
    for (var i = 1; i < points.length; i++) d += ' L ' + points[i].x + ' ' + points[i].y;
    return d;
  }

  // ------------------------------------------------------------------ statechart

  function select(target) {
    state.selected = target;
    state.statechart = null;
    chartLayoutKey = '';
    if (target.taskId) { state.followWorkflow = false; state.selectedWorkflow = (state.tasks.get(target.taskId) || {}).workflowId || state.selectedWorkflow; }
    requestStatechart(target);
    dirty.tree = true;
    dirty.dagStatus = true;
    dirty.chart = true;
    scheduleRender();
  }

  function requestStatechart(target) {
    var frame = { type: 'statechart' };
    if (target.actorId) frame.actorId = target.actorId;
    else frame.systemId = target.systemId;
    send(frame);
  }

  function receiveStatechart(frame) {
    if (!state.selected) return;
    if (state.selected.actorId && frame.actorId !== state.selected.actorId) return;
    if (state.selected.systemId && frame.systemId !== state.selected.systemId) return;
    if (frame.graph && frame.logicId) state.graphs.set(frame.logicId, frame.graph);
    state.statechart = frame;
    dirty.chart = true;
  }

  function selectedActor() {
    var frame = state.statechart;
    if (!frame || !frame.actorId) return null;
    return state.actors.get(frame.actorId) || null;
  }

  function renderStatechart() {
    var container = $('statechart');
    var title = $('statechart-title');
    var frame = state.statechart;
    if (!state.selected) {
      title.textContent = '';
      clear(container);
      container.appendChild(el('p', { class: 'empty' }, 'Select an actor or a task.'));
      chartLayoutKey = '';
      return;
    }
    if (!frame) {
      title.textContent = 'loading…';
      return;
    }
    var actor = selectedActor();
    var value = actor ? actor.value : frame.value;
    var status = actor ? actor.status : frame.status;
    title.textContent = (actor ? shortName(actor) : frame.systemId || frame.actorId || '') + ' — ' + (status || '') + (value !== null ? ' · ' + valueText(value) : '');
    container.setAttribute('data-actor-id', frame.actorId || '');
    container.setAttribute('data-system-id', frame.systemId || '');
    var graph = frame.logicId ? state.graphs.get(frame.logicId) : null;
    if (!graph) {
      clear(container);
      chartLayoutKey = '';
      container.appendChild(el('p', { class: 'empty' }, frame.reason || 'No statechart.'));
      return;
    }
    var key = (frame.actorId || '') + '|' + frame.logicId;
    if (key !== chartLayoutKey) {
      chartLayoutKey = key;
      layoutStatechart(container, graph);
    }
    var paths = activePaths(value);
    var active = new Set(paths);
    var nodes = container.querySelectorAll('[data-state-path]');
    var leaf = null;
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      var on = active.has(node.getAttribute('data-state-path'));
      var base = node.getAttribute('data-base-class');
      node.setAttribute('class', base + (on ? ' active' : ''));
      node.setAttribute('data-active', on ? 'true' : 'false');
      if (on && base.indexOf('state ') === 0) leaf = node;
    }
    // Bring the current state into view when it changes (not on every update: the user may be scrolling).
    var activeKey = key + '|' + paths.join(',');
    if (leaf && activeKey !== lastActiveKey) {
      lastActiveKey = activeKey;
      var box = leaf.getBoundingClientRect();
      var frame = container.getBoundingClientRect();
      if (box.right > frame.right || box.left < frame.left) container.scrollLeft += box.left - frame.left - frame.width / 2 + box.width / 2;
      if (box.bottom > frame.bottom || box.top < frame.top) container.scrollTop += box.top - frame.top - frame.height / 2 + box.height / 2;
    }
  }

  function layoutStatechart(container, graph) {
    clear(container);
    var g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
    g.setGraph({ rankdir: 'LR', nodesep: 16, ranksep: 40, edgesep: 8, marginx: 10, marginy: 10 });
    var clusters = new Set();
    graph.nodes.forEach(function (n) { if (n.kind === 'compound' || n.kind === 'parallel') clusters.add(n.path); });
    graph.nodes.forEach(function (n) {
      if (clusters.has(n.path)) g.setNode(n.path, { label: n.key, cluster: true, paddingTop: 22 });
      else if (n.kind === 'any') g.setNode(n.path, { width: 56, height: 24 });
      else g.setNode(n.path, { width: textWidth(n.key, 12), height: 30 });
    });
    graph.nodes.forEach(function (n) { if (n.parent !== null && clusters.has(n.parent)) g.setParent(n.path, n.parent); });
    graph.edges.forEach(function (e, i) {
      if (!g.hasNode(e.source) || !g.hasNode(e.target)) return;
      g.setEdge(e.source, e.target, { label: e.label, width: textWidth(e.label, 10) - 10, height: 14, labelpos: 'c' }, 'e' + i);
    });
    dagre.layout(g);
    var size = g.graph();
    var root = svg('svg', { class: 'statechart', width: size.width, height: size.height, viewBox: '0 0 ' + size.width + ' ' + size.height, 'data-machine-id': graph.machineId });
    root.appendChild(arrowMarker('chart-arrow'));
    var byPath = new Map();
    graph.nodes.forEach(function (n) { byPath.set(n.path, n); });
    // Clusters first (behind), then edges, then states.
    graph.nodes.forEach(function (n) {
      if (!clusters.has(n.path)) return;
      var box = g.node(n.path);
      var base = 'cluster';
      var group = svg('g', { class: base, 'data-state-path': n.path, 'data-base-class': base });
      group.appendChild(svg('rect', { x: box.x - box.width / 2, y: box.y - box.height / 2, width: box.width, height: box.height, rx: 8 }));
      group.appendChild(svg('text', { x: box.x - box.width / 2 + 8, y: box.y - box.height / 2 + 14, class: 'cluster-label' }, n.key));
      root.appendChild(group);
    });
    g.edges().forEach(function (e) {
      var edge = g.edge(e);
      root.appendChild(svg('path', { class: 'transition', d: pathOf(edge.points), 'marker-end': 'url(#chart-arrow)' }));
      if (edge.label && edge.x !== undefined) root.appendChild(svg('text', { class: 'transition-label', x: edge.x, y: edge.y + 4, 'text-anchor': 'middle' }, edge.label));
    });
    graph.nodes.forEach(function (n) {
      if (clusters.has(n.path)) return;
      var box = g.node(n.path);
      var base = 'state kind-' + n.kind + (n.initial ? ' initial' : '');
      var group = svg('g', { class: base, 'data-state-path': n.path, 'data-base-class': base, transform: 'translate(' + (box.x - box.width / 2) + ',' + (box.y - box.height / 2) + ')' });
      group.appendChild(svg('rect', { width: box.width, height: box.height, rx: n.kind === 'any' ? 12 : 6 }));
      if (n.kind === 'final') group.appendChild(svg('rect', { x: 3, y: 3, width: box.width - 6, height: box.height - 6, rx: 4, class: 'inner' }));
      group.appendChild(svg('text', { x: box.width / 2, y: box.height / 2 + 4, 'text-anchor': 'middle' }, n.kind === 'any' ? 'any' : n.key));
      root.appendChild(group);
    });
    container.appendChild(root);
    fit(root, container, size.width, size.height, 0.55);
  }

  // ------------------------------------------------------------------ message sequence

  function renderSequence() {
    var container = $('sequence');
    clear(container);
    var messages = state.messages.slice(-MAX_SEQUENCE_MESSAGES);
    if (!messages.length) {
      container.appendChild(el('p', { class: 'empty' }, 'No message yet.'));
      return;
    }
    var counts = new Map();
    messages.forEach(function (m) {
      counts.set(m.from, (counts.get(m.from) || 0) + 1);
      var to = m.to || (m.messageType === 'broadcast' ? '(everyone)' : '(subscribers)');
      counts.set(to, (counts.get(to) || 0) + 1);
    });
    var lanes = [];
    messages.forEach(function (m) {
      [m.from, m.to || (m.messageType === 'broadcast' ? '(everyone)' : '(subscribers)')].forEach(function (name) {
        if (lanes.indexOf(name) < 0) lanes.push(name);
      });
    });
    var maxLanes = Math.max(3, Math.min(MAX_LANES, Math.floor((container.clientWidth - 24) / 96)));
    if (lanes.length > maxLanes) {
      var order = lanes.slice();
      var busiest = lanes.slice().sort(function (a, b) { return (counts.get(b) || 0) - (counts.get(a) || 0); }).slice(0, maxLanes - 1);
      lanes = order.filter(function (name) { return busiest.indexOf(name) >= 0; }).concat(['(others)']);
    }
    var laneOf = function (name) { var i = lanes.indexOf(name); return i >= 0 ? i : lanes.length - 1; };
    var laneWidth = Math.max(96, Math.floor((container.clientWidth - 24) / lanes.length));
    var rowHeight = 22;
    var top = 34;
    var width = lanes.length * laneWidth + 20;
    var height = top + messages.length * rowHeight + 10;
    var root = svg('svg', { class: 'sequence', width: width, height: height, viewBox: '0 0 ' + width + ' ' + height });
    root.appendChild(arrowMarker('seq-arrow'));
    lanes.forEach(function (name, i) {
      var x = 10 + i * laneWidth + laneWidth / 2;
      root.appendChild(svg('line', { class: 'lifeline', x1: x, y1: top - 6, x2: x, y2: height - 4 }));
      var room = Math.floor(laneWidth / 7);
      root.appendChild(svg('text', { class: 'lane', x: x, y: 16, 'text-anchor': 'middle' }, name.length > room ? name.slice(0, room - 1) + '…' : name));
    });
    messages.forEach(function (m, row) {
      var from = laneOf(m.from);
      var to = laneOf(m.to || (m.messageType === 'broadcast' ? '(everyone)' : '(subscribers)'));
      var y = top + row * rowHeight + 12;
      var x1 = 10 + from * laneWidth + laneWidth / 2;
      var x2 = 10 + to * laneWidth + laneWidth / 2;
      var group = svg('g', { class: 'message type-' + m.messageType + ' priority-' + m.priority, 'data-message-id': m.id });
      if (from === to) group.appendChild(svg('path', { d: 'M ' + x1 + ' ' + (y - 6) + ' h 24 v 10 h -22', 'marker-end': 'url(#seq-arrow)' }));
      else group.appendChild(svg('line', { x1: x1, y1: y, x2: x2 + (x2 > x1 ? -3 : 3), y2: y, 'marker-end': 'url(#seq-arrow)' }));
      var labelX = from === to ? x1 + 28 : (x1 + x2) / 2;
      group.appendChild(svg('text', { x: labelX, y: y - 3, 'text-anchor': from === to ? 'start' : 'middle' }, m.topic + (m.priority !== 'medium' ? ' (' + m.priority + ')' : '')));
      group.appendChild(svg('title', null, m.messageType + ' ' + m.topic + ' from ' + m.from + ' to ' + (m.to || '*') + ', priority ' + m.priority + (m.correlationId ? ', correlation ' + m.correlationId : '')));
      root.appendChild(group);
    });
    container.appendChild(root);
  }

  // ------------------------------------------------------------------ conflicts

  function renderConflicts() {
    var container = $('conflicts');
    clear(container);
    var all = [];
    state.conflicts.forEach(function (c) { all.push(c); });
    var open = all.filter(function (c) { return c.status !== 'resolved' && c.status !== 'escalated'; });
    var done = all.filter(function (c) { return c.status === 'resolved' || c.status === 'escalated'; }).slice(-8).reverse();
    if (!all.length) {
      container.appendChild(el('p', { class: 'empty' }, 'No conflict yet.'));
      return;
    }
    container.appendChild(el('h3', null, 'Open (' + open.length + ')'));
    open.forEach(function (c) { container.appendChild(conflictCard(c)); });
    if (done.length) {
      container.appendChild(el('h3', null, 'Recently finished'));
      done.forEach(function (c) { container.appendChild(conflictCard(c)); });
    }
  }

  function conflictCard(c) {
    var card = el('div', { class: 'conflict status-' + c.status, 'data-conflict-id': c.conflictId });
    card.appendChild(el('div', { class: 'conflict-head' }, c.conflictType + ' · ' + c.status + ' · severity ' + c.severity.toFixed(2) + (c.strategy ? ' · ' + c.strategy : '') + (c.algorithm ? ' / ' + c.algorithm : '')));
    if (c.description) card.appendChild(el('div', { class: 'conflict-desc' }, c.description));
    card.appendChild(el('div', { class: 'conflict-agents' }, 'agents: ' + c.involvedAgents.join(', ')));
    if (c.votes.length) {
      var table = el('table', { class: 'votes' });
      var head = el('tr');
      ['agent', 'decision', 'confidence', 'stake'].forEach(function (h) { head.appendChild(el('th', null, h)); });
      table.appendChild(head);
      c.votes.forEach(function (v) {
        var tr = el('tr', { class: v.decision === null ? 'abstained' : '' });
        tr.appendChild(el('td', null, v.agentId));
        tr.appendChild(el('td', null, v.decision === null ? 'abstained' : v.decision));
        tr.appendChild(el('td', null, v.confidence.toFixed(2)));
        tr.appendChild(el('td', null, v.stake.toFixed(2)));
        table.appendChild(tr);
      });
      card.appendChild(table);
    } else card.appendChild(el('div', { class: 'conflict-votes' }, 'no vote yet'));
    if (c.outcome) {
      card.appendChild(el('div', { class: 'conflict-outcome' }, 'outcome: ' + c.outcome.action + (c.outcome.decision !== null ? ' ' + c.outcome.decision : '') + ' (confidence ' + c.outcome.confidence.toFixed(2) + ')' + (c.outcome.reason ? ' — ' + c.outcome.reason : '')));
    }
    return card;
  }

  // ------------------------------------------------------------------ swarm

  function renderSwarm() {
    var container = $('swarm');
    clear(container);
    var swarm = state.swarm;
    if (!swarm || !swarm.neurons.length) {
      container.appendChild(el('p', { class: 'empty' }, 'No agent in the swarm yet.'));
      return;
    }
    var size = 300;
    var n = swarm.neurons.length;
    var radius = n === 1 ? 0 : size / 2 - 40;
    var pos = new Map();
    swarm.neurons.forEach(function (neuron, i) {
      var angle = (2 * Math.PI * i) / n - Math.PI / 2;
      pos.set(neuron.agentId, { x: size / 2 + radius * Math.cos(angle), y: size / 2 + radius * Math.sin(angle) });
    });
    var root = svg('svg', { class: 'swarm', width: size, height: size, viewBox: '0 0 ' + size + ' ' + size });
    root.appendChild(arrowMarker('swarm-arrow'));
    swarm.connections.forEach(function (c) {
      var a = pos.get(c.source);
      var b = pos.get(c.target);
      if (!a || !b) return;
      // Both directions of a pair are drawn side by side, not on top of each other.
      var dx = b.x - a.x;
      var dy = b.y - a.y;
      var len = Math.sqrt(dx * dx + dy * dy) || 1;
      var ox = (-dy / len) * 3;
      var oy = (dx / len) * 3;
      var line = svg('line', { class: 'connection', x1: a.x + ox, y1: a.y + oy, x2: b.x + ox, y2: b.y + oy, 'stroke-width': (0.5 + c.strength * 6).toFixed(2), 'data-connection-id': c.id, 'data-strength': c.strength.toFixed(3) });
      line.appendChild(svg('title', null, c.source + ' → ' + c.target + ': strength ' + c.strength.toFixed(3)));
      root.appendChild(line);
    });
    swarm.neurons.forEach(function (neuron) {
      var p = pos.get(neuron.agentId);
      var group = svg('g', { class: 'neuron', 'data-agent-id': neuron.agentId });
      var hue = Math.round(120 * Math.max(0, Math.min(1, neuron.performance)));
      group.appendChild(svg('circle', { cx: p.x, cy: p.y, r: 9, fill: 'hsl(' + hue + ',60%,55%)' }));
      group.appendChild(svg('text', { x: p.x, y: p.y + 22, 'text-anchor': 'middle' }, neuron.agentId.length > 16 ? neuron.agentId.slice(0, 15) + '…' : neuron.agentId));
      group.appendChild(svg('title', null, neuron.agentId + ': performance ' + neuron.performance.toFixed(2) + ', fired ' + neuron.fireCount));
      root.appendChild(group);
    });
    container.appendChild(root);
    if (swarm.truncated) container.appendChild(el('p', { class: 'note' }, 'Showing the strongest connections only.'));
  }

  // ------------------------------------------------------------------ events

  function renderEvents() {
    var list = $('events');
    clear(list);
    var events = state.events.slice(-MAX_EVENTS_SHOWN).reverse();
    events.forEach(function (e) {
      var source = e.sourceId ? shortName(state.actors.get(e.sourceId)) : '—';
      var target = shortName(state.actors.get(e.targetId));
      var li = el('li', null);
      li.appendChild(el('span', { class: 'event-type' }, e.event.type));
      li.appendChild(el('span', { class: 'event-route' }, ' ' + source + ' → ' + target));
      list.appendChild(li);
    });
  }

  // ------------------------------------------------------------------ start

  window.addEventListener('resize', function () {
    dagLayoutKey = '';
    chartLayoutKey = '';
    dirty.dag = true;
    dirty.chart = true;
    dirty.sequence = true;
    scheduleRender();
  });
  $('actor-filter').addEventListener('input', function () { dirty.tree = true; scheduleRender(); });
  $('show-finished').addEventListener('change', function () { dirty.tree = true; scheduleRender(); });
  $('workflow-select').addEventListener('change', function (e) {
    var value = e.target.value;
    state.followWorkflow = value === '';
    state.selectedWorkflow = value || null;
    dirty.dag = true;
    scheduleRender();
  });
  render();
  connect();
})();
`;
