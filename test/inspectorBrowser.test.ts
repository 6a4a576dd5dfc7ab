/**
 * The inspector page in a real browser: headless Chromium (Debian package `chromium`)
 * driven by playwright-core, at 1280×800 and 1920×1080. Without /usr/bin/chromium the test
 * is skipped with a reason, except under CI=true, where it fails. `npm run docs:screenshots`
 * (UPDATE_SCREENSHOTS=1) writes the screenshots used by docs/inspector.md; otherwise they
 * go to a temporary folder.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createNeuroFlux, type NeuroFlux } from '../src/runtime/createNeuroFlux';
import { createInspectionHub, publishInspection, setUpDemoWorkload, startInspector, startRemoteInspector, type DemoWorkload, type Inspector } from '../src/observability';
import { nats } from '../src/transport/natsTransport';
import { NATS_SERVER_BIN, startNatsServer } from './support/servers';

/** What the page functions use of the DOM (the project's tests compile without the DOM library). */
interface Box {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
  readonly width: number;
  readonly height: number;
}
interface PageElement {
  readonly tagName: string;
  readonly textContent: string | null;
  readonly childNodes: ArrayLike<{ readonly nodeType: number; readonly textContent: string | null }>;
  readonly scrollWidth: number;
  readonly scrollHeight: number;
  readonly clientWidth: number;
  readonly clientHeight: number;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): Box;
  getScreenCTM?(): { a: number; d: number } | null;
  closest(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
}
interface PageGlobals {
  document: { querySelectorAll(selector: string): ArrayLike<PageElement>; querySelector(selector: string): PageElement | null };
  getComputedStyle(element: PageElement): { fontSize: string; visibility: string; display: string };
}

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const onCi = process.env['CI'] === 'true';
const updateScreenshots = process.env['UPDATE_SCREENSHOTS'] === '1';

if (!haveChromium && !onCi) {
  console.warn(`Skipping the inspector browser test: ${CHROMIUM} not found (install the Debian package: apt-get install -y chromium).`);
}

if (!haveChromium && onCi) {
  test('Chromium is installed for the inspector browser test', () => {
    throw new Error(`${CHROMIUM} is missing: CI must install the Debian package 'chromium' (see .ci/run)`);
  });
}

const SIZES = [
  { width: 1280, height: 800, screenshot: 'inspector.png' },
  { width: 1920, height: 1080, screenshot: 'inspector-1920.png' },
] as const;

/** Every drawn element of a drawing lies within its SVG, and the SVG within its panel's scrollable area. */
function clippedElements(selector: string): string[] {
  const { document } = globalThis as unknown as PageGlobals;
  const out: string[] = [];
  const root = document.querySelector(selector);
  if (!root) return [`${selector}: missing`];
  const frame = root.getBoundingClientRect();
  const container = root.closest('.panel > div') as PageElement;
  if (container.scrollWidth + 1 < frame.width || container.scrollHeight + 1 < frame.height) out.push(`${selector}: larger than its panel can scroll`);
  for (const node of Array.from(root.querySelectorAll('g.state, g.task, g.cluster, g.neuron, text, line, path.transition'))) {
    const box = node.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.left < frame.left - 1 || box.right > frame.right + 1 || box.top < frame.top - 1 || box.bottom > frame.bottom + 1) {
      out.push(
        `${selector} ${node.tagName} "${(node.textContent ?? '').slice(0, 30)}" at ${Math.round(box.left)},${Math.round(box.top)}–${Math.round(box.right)},${Math.round(box.bottom)} outside ${Math.round(frame.left)},${Math.round(frame.top)}–${Math.round(frame.right)},${Math.round(frame.bottom)}`,
      );
    }
  }
  return out;
}

/** Every piece of visible text, with the size it is drawn at (CSS size times the SVG's zoom). */
function smallText(minimum: number): string[] {
  const win = globalThis as unknown as PageGlobals;
  const out: string[] = [];
  for (const node of Array.from(win.document.querySelectorAll('body *'))) {
    if (['SCRIPT', 'STYLE', 'TITLE', 'title', 'OPTION'].includes(node.tagName)) continue;
    const ownText = Array.from(node.childNodes).some((child) => child.nodeType === 3 && (child.textContent ?? '').trim() !== '');
    if (!ownText) continue;
    const style = win.getComputedStyle(node);
    if (style.visibility === 'hidden' || style.display === 'none' || node.closest('svg.ruler')) continue;
    const box = node.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    const scale = node.getScreenCTM ? (node.getScreenCTM()?.d ?? 1) : 1;
    const size = parseFloat(style.fontSize) * scale;
    if (size < minimum - 0.01) out.push(`${node.tagName} "${(node.textContent ?? '').slice(0, 30)}": ${size.toFixed(1)}px`);
  }
  return out;
}

(haveChromium ? describe : describe.skip)('inspector page in headless Chromium', () => {
  jest.setTimeout(90_000);
  let nf: NeuroFlux;
  let inspector: Inspector;
  let demo: DemoWorkload;
  let profileDir: string;
  let browser: Browser;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const hub = createInspectionHub();
    nf = createNeuroFlux({ inspect: hub.observer, name: 'trading desk' });
    demo = setUpDemoWorkload(nf, { taskDelayMs: 15 });
    await nf.start();
    inspector = await startInspector(nf, { hub, port: 0 });
    profileDir = mkdtempSync(join(tmpdir(), 'neuroflux-chromium-'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    await demo.runOnce();
    const run = await demo.runOnce();
    expect(run.records.every((r) => r.status === 'completed')).toBe(true);
  });

  afterAll(async () => {
    await browser?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    await inspector?.close();
    await nf?.stop();
  });

  async function open(size: { width: number; height: number }): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: size.width, height: size.height } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(inspector.url);
    await page.waitForSelector('body[data-connection="open"][data-snapshot="received"][data-rendered="true"]');
    return page;
  }

  (existsSync(NATS_SERVER_BIN) ? test : test.skip)('an inspector attached over NATS shows each runtime as a root of the actor tree, with its statecharts', async () => {
    const server = await startNatsServer();
    const namespace = 'browserattach';
    const runtimes = [
      createNeuroFlux({ name: 'orchestrator', transport: nats({ servers: server.url, namespace, name: 'orch' }) }),
      createNeuroFlux({ name: 'second', transport: nats({ servers: server.url, namespace, name: 'second' }) }),
    ];
    const viewer = createNeuroFlux({ orchestrator: false, transport: nats({ servers: server.url, namespace, name: 'viewer' }) });
    runtimes[0]?.orchestrator.registerAgent('analyst', { capabilities: ['x'], execute: () => 'done' });
    await Promise.all([...runtimes, viewer].map((r) => r.start()));
    const publishers = runtimes.map((r, i) => publishInspection(r, { runtimeId: `rt-${i}`, role: i === 0 ? 'orchestrator' : 'runtime', sampleMs: 100 }));
    const attached = await startRemoteInspector(viewer, { port: 0 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(attached.url);
      await page.waitForSelector('#actor-tree li.actor[data-system-id="runtime:rt-0"]');
      await page.waitForSelector('#actor-tree li.actor[data-system-id="runtime:rt-1"]');
      const agentRow = '#actor-tree li.actor[data-actor-id^="rt-0/"][data-system-id="agent:analyst"]';
      await page.click(`${agentRow} > .row`);
      try {
        await page.waitForSelector('#statechart svg.statechart[data-machine-id="agent"] g.state[data-active="true"]');
      } catch (error) {
        // Timed out in loaded CI runs: the page showed no selection ("Select an actor or a
        // task."), a click lost to the tree's rebuild (fixed; see the test of a click across a
        // rebuild below). Say what the page had, should it come back.
        const actorId = await page.getAttribute(agentRow, 'data-actor-id');
        const title = await page.textContent('#statechart-title');
        const chart = (await page.textContent('#statechart'))?.slice(0, 300);
        throw new Error(`no active state in the agent's statechart: title ${JSON.stringify(title)}, chart ${JSON.stringify(chart)}, agent row ${actorId}`, { cause: error });
      }
      expect(await page.evaluate(clippedElements, '#statechart svg.statechart')).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
      await attached.close();
      for (const p of publishers) await p.close();
      await Promise.all([...runtimes, viewer].map((r) => r.stop()));
      await server.stop();
    }
  });

  describe.each(SIZES)('at $width×$height', (size) => {
    let page: Page;
    beforeAll(async () => {
      page = await open(size);
    });
    afterAll(async () => {
      await page?.close();
    });

    test('the task DAG shows final statuses, and a selected task shows its statechart in its final state', async () => {
      // The DAG follows the newest workflow: its five tasks, each completed.
      await page.waitForFunction(() => {
        const nodes = Array.from((globalThis as unknown as PageGlobals).document.querySelectorAll('#workflow-dag g.task'));
        return nodes.length === 5 && nodes.every((n) => n.getAttribute('data-status') === 'completed');
      });
      const statuses = await page.$$eval('#workflow-dag g.task', (nodes) => nodes.map((n) => [n.getAttribute('data-task-id'), n.getAttribute('data-status')]));
      expect(Object.fromEntries(statuses)).toEqual({
        'run2.fetch_prices': 'completed',
        'run2.technical': 'completed',
        'run2.sentiment': 'completed',
        'run2.risk': 'completed',
        'run2.trade': 'completed',
      });
      expect(await page.$$eval('#workflow-dag path.edge', (edges) => edges.length)).toBe(5);

      await page.click('#workflow-dag g.task[data-task-id="run2.risk"]');
      await page.waitForSelector('#statechart svg.statechart[data-machine-id="task"]');
      await page.waitForSelector('#statechart g.state[data-state-path="completed"][data-active="true"]');
      expect(await page.textContent('#statechart-title')).toContain('task:run2.risk');
      const states = await page.$$eval('#statechart g.state', (nodes) => nodes.map((n) => n.getAttribute('data-state-path')));
      expect(states).toEqual(expect.arrayContaining(['waiting', 'queued', 'running', 'retrying', 'completed', 'failed']));
      expect(await page.$$eval('#statechart g.state[data-active="true"]', (nodes) => nodes.length)).toBe(1);

      await page.waitForSelector('#conflicts .conflict table.votes tr td');
      await page.waitForSelector('#swarm line.connection', { state: 'attached' });
      await page.waitForSelector('#sequence g.message', { state: 'attached' });
      expect(await page.$$eval('#actor-tree li.actor', (items) => items.length)).toBeGreaterThan(5);
      expect(await page.textContent('#sampling')).toMatch(/Sampling: XState events — the newest 500 per 100 ms/);
    });

    test('no drawing is clipped: every state, task, label and swarm node lies within a scrollable drawing', async () => {
      for (const selector of ['#statechart svg.statechart', '#workflow-dag svg.dag', '#swarm svg.swarm', '#sequence svg.sequence']) {
        expect(await page.evaluate(clippedElements, selector)).toEqual([]);
      }
    });

    test('no text is drawn smaller than 11 px at the default zoom', async () => {
      expect(await page.evaluate(smallText, 11)).toEqual([]);
      const zoom = Number(await page.getAttribute('#statechart svg.statechart', 'data-zoom'));
      expect(zoom).toBeGreaterThanOrEqual(1);
    });

    test('swarm labels are whole agent ids', async () => {
      const labels = await page.$$eval('#swarm g.neuron', (groups) => groups.map((g) => [g.getAttribute('data-agent-id'), g.querySelector('text')?.textContent]));
      expect(labels.map(([agentId]) => agentId).sort()).toEqual(
        inspector
          .snapshot()
          .swarm?.neurons.map((n) => n.agentId)
          .sort(),
      );
      expect(labels.length).toBeGreaterThan(3);
      for (const [agentId, text] of labels) expect(text).toBe(agentId);
    });

    test('the message view has a lane for each participant when there are few', async () => {
      const recent = inspector.snapshot().messages.slice(-16);
      const participants = new Set(recent.flatMap((m) => [m.from, m.to ?? (m.messageType === 'broadcast' ? '(everyone)' : '(subscribers)')]));
      expect(participants.size).toBeGreaterThan(3);
      expect(participants.size).toBeLessThanOrEqual(12);
      await page.waitForFunction(
        (expected) => {
          const lanes = Array.from((globalThis as unknown as PageGlobals).document.querySelectorAll('#sequence text.lane')).map((t) => t.getAttribute('data-lane'));
          return lanes.length === expected.length && expected.every((name) => lanes.includes(name));
        },
        [...participants],
      );
      expect(await page.$$eval('#sequence text.lane', (lanes) => lanes.map((t) => t.textContent))).not.toContain('(others)');
    });

    test('the statechart zooms and pans: zoom in, fit, and the whole chart shows after fit', async () => {
      const zoomOf = async () => Number(await page.getAttribute('#statechart svg.statechart', 'data-zoom'));
      const before = await zoomOf();
      await page.click('#statechart-zoom button[data-zoom="+"]');
      expect(await zoomOf()).toBeCloseTo(before * 1.25, 2);
      await page.click('#statechart-zoom button[data-zoom="fit"]');
      const fitted = await page.evaluate(() => {
        const { document } = globalThis as unknown as PageGlobals;
        const container = document.querySelector('#statechart') as PageElement;
        const svg = document.querySelector('#statechart svg.statechart') as PageElement;
        const box = svg.getBoundingClientRect();
        return { width: box.width, height: box.height, roomWidth: container.clientWidth, roomHeight: container.clientHeight };
      });
      expect(fitted.width).toBeLessThanOrEqual(fitted.roomWidth);
      expect(fitted.height).toBeLessThanOrEqual(fitted.roomHeight);
      await page.click('#statechart-zoom button[data-zoom="1:1"]');
      expect(await zoomOf()).toBe(1);
    });

    test('selecting an actor in the tree shows its statechart with the current state', async () => {
      await page.click('#actor-tree li.actor[data-system-id="agent:portfolio"] > .row');
      await page.waitForSelector('#statechart svg.statechart[data-machine-id="agent"]');
      await page.waitForSelector('#statechart g.state[data-active="true"]');
      expect(await page.getAttribute('#actor-tree li.actor[data-system-id="agent:portfolio"]', 'class')).toContain('selected');
      expect(await page.evaluate(clippedElements, '#statechart svg.statechart')).toEqual([]);
    });

    test('a click whose press and release fall on rows rebuilt in between still selects the actor', async () => {
      // The tree is rebuilt on every update: a press on one row element and a release on the
      // next build's row of the same actor made the browser give the click to their common
      // ancestor, and the selection was lost (seen once in a loaded CI run).
      const row = '#actor-tree li.actor[data-system-id="agent:risk_manager"] > .row';
      // On the agent's name (not its expand toggle).
      const box = await page.locator(`${row} > .name`).boundingBox();
      expect(box).not.toBeNull();
      await page.mouse.move((box?.x ?? 0) + (box?.width ?? 0) / 2, (box?.y ?? 0) + (box?.height ?? 0) / 2);
      await page.mouse.down();
      const rebuilt = await page.evaluate(async (selector) => {
        const doc = (globalThis as unknown as PageGlobals).document;
        const before = doc.querySelector(selector);
        (doc.querySelector('#actor-filter') as unknown as { dispatchEvent(event: Event): boolean } | null)?.dispatchEvent(new Event('input'));
        const frame = (globalThis as unknown as { requestAnimationFrame(callback: () => void): void }).requestAnimationFrame;
        await new Promise<void>((resolve) => frame(() => frame(() => resolve())));
        return doc.querySelector(selector) !== before;
      }, row);
      expect(rebuilt).toBe(true);
      await page.mouse.up();
      await page.waitForSelector('#actor-tree li.actor.selected[data-system-id="agent:risk_manager"]');
      await page.waitForSelector('#statechart svg.statechart[data-machine-id="agent"] g.state[data-active="true"]');
    });

    test('pause and resume an agent from the page', async () => {
      await page.click('#actor-tree li.actor[data-system-id="agent:trader"] > .row');
      expect(await page.$('#agent-actions button[data-action="resumeAgent"]')).toBeNull();
      await page.click('#agent-actions button[data-action="pauseAgent"]');
      await page.waitForSelector('body[data-last-action="done"] #agent-actions .action-result');
      expect(nf.orchestrator.isAgentPaused('trader')).toBe(true);
      expect(await page.textContent('#agent-actions .action-result')).toBe('agent trader paused: it gets no new task');
      // The next stats say it is paused: the page shows it, and only resume applies.
      await page.waitForSelector('#agent-actions [data-agent-paused="true"]');
      expect(await page.$('#agent-actions button[data-action="pauseAgent"]')).toBeNull();
      await page.click('#agent-actions button[data-action="resumeAgent"]');
      await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.querySelector('#agent-actions .action-result')?.textContent === 'agent trader resumed');
      expect(nf.orchestrator.isAgentPaused('trader')).toBe(false);
      await page.waitForSelector('#agent-actions button[data-action="pauseAgent"]');
    });

    test('screenshot (docs/inspector*.png with npm run docs:screenshots)', async () => {
      // The docs show a task's statechart, as a user would see it after clicking a task.
      await page.click('#workflow-dag g.task[data-task-id="run2.risk"]');
      await page.waitForSelector('#statechart g.state[data-state-path="completed"][data-active="true"]');
      const path = updateScreenshots ? join(__dirname, '..', 'docs', size.screenshot) : join(profileDir, size.screenshot);
      await page.screenshot({ path });
      expect(readFileSync(path).subarray(1, 4).toString()).toBe('PNG');
      expect(pageErrors).toEqual([]);
    });
  });
});
