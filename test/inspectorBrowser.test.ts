/**
 * The inspector page in a real browser: headless Chromium (Debian package `chromium`)
 * driven by playwright-core. Without /usr/bin/chromium the test is skipped with a reason,
 * except under CI=true, where it fails. `UPDATE_SCREENSHOTS=1` writes the screenshot used
 * by docs/inspector.md; otherwise it goes to a temporary file.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createNeuroFlux, type NeuroFlux } from '../src/kernel/createNeuroFlux';
import { createInspectionHub, setUpDemoWorkload, startInspector, type DemoWorkload, type Inspector } from '../src/observability';

/** What the page functions use of the DOM (the project compiles without the DOM library). */
interface PageDocument {
  querySelectorAll(selector: string): ArrayLike<{ getAttribute(name: string): string | null }>;
}

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const onCi = process.env['CI'] === 'true';

if (!haveChromium && !onCi) {
  console.warn(`Skipping the inspector browser test: ${CHROMIUM} not found (install the Debian package: apt-get install -y chromium).`);
}

if (!haveChromium && onCi) {
  test('Chromium is installed for the inspector browser test', () => {
    throw new Error(`${CHROMIUM} is missing: CI must install the Debian package 'chromium' (see .ci/run)`);
  });
}

(haveChromium ? describe : describe.skip)('inspector page in headless Chromium', () => {
  jest.setTimeout(60_000);
  let nf: NeuroFlux;
  let inspector: Inspector;
  let demo: DemoWorkload;
  let profileDir: string;
  let browser: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const hub = createInspectionHub();
    nf = createNeuroFlux({ inspect: hub.observer, name: 'trading desk' });
    demo = setUpDemoWorkload(nf, { taskDelayMs: 15 });
    await nf.start();
    inspector = await startInspector(nf, { hub, port: 0 });
    profileDir = mkdtempSync(join(tmpdir(), 'neuroflux-chromium-'));
    browser = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1600, height: 1000 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    await inspector?.close();
    await nf?.stop();
  });

  test('the task DAG shows final statuses, and a selected task shows its statechart in its final state', async () => {
    await page.goto(inspector.url);
    await page.waitForSelector('body[data-connection="open"][data-snapshot="received"]');
    await demo.runOnce();
    const run = await demo.runOnce();
    expect(run.records.every((r) => r.status === 'completed')).toBe(true);

    // The DAG follows the newest workflow: its five tasks, each completed.
    await page.waitForFunction(() => {
      const nodes = Array.from((globalThis as unknown as { document: PageDocument }).document.querySelectorAll('#workflow-dag g.task'));
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

    // The other views are live too.
    await page.waitForSelector('#conflicts .conflict table.votes tr td');
    await page.waitForSelector('#swarm line.connection', { state: 'attached' });
    await page.waitForSelector('#sequence g.message', { state: 'attached' });
    expect(await page.$$eval('#actor-tree li.actor', (items) => items.length)).toBeGreaterThan(5);
    expect(await page.textContent('#sampling')).toMatch(/Sampling: XState events — the newest 500 per 100 ms/);
    expect(pageErrors).toEqual([]);

    const path = process.env['UPDATE_SCREENSHOTS'] === '1' ? join(__dirname, '..', 'docs', 'inspector.png') : join(profileDir, 'inspector.png');
    await page.screenshot({ path });
    expect(readFileSync(path).subarray(1, 4).toString()).toBe('PNG');
  });

  test('selecting an actor in the tree shows its statechart with the current state', async () => {
    await page.click('#actor-tree li.actor[data-system-id="agent:portfolio"] > .row');
    await page.waitForSelector('#statechart svg.statechart[data-machine-id="agent"]');
    await page.waitForSelector('#statechart g.state[data-active="true"]');
    expect(await page.getAttribute('#actor-tree li.actor[data-system-id="agent:portfolio"]', 'class')).toContain('selected');
  });
});
