/**
 * Draws docs/swarm-learning.svg from the swarm-learning bench's own runs: the success rate
 * over time (moving average over 50 tasks, mean of the seeds) of the swarm, default and
 * round-robin balancers, one task at a time and 10 at a time, and the swarm when the
 * compatibility is permuted at task 750. Hand-written SVG, no dependency.
 *
 * `npm run plot:swarm-learning` runs the bench and writes the figure (and prints the
 * bench's lines); `-- --from runs.json` draws from `bench/swarm-learning.ts --json runs.json`
 * instead; `-- --out file.svg` writes elsewhere.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODES, SHIFT_AT, TASKS, benchSeeds, report, runAll, type Mode, type SwarmLearningRuns } from './swarm-learning';

const WINDOW = 50;
const WIDTH = 880;
const PANEL_HEIGHT = 210;
const MARGIN = { left: 56, right: 170, top: 34, bottom: 34 };
const COLOURS = { swarm: '#1f77b4', default: '#d62728', round_robin: '#7f7f7f', shift_one: '#1f77b4', shift_ten: '#2ca02c' };

/** Per task, the share of seeds whose task succeeded, then a trailing moving average. */
export function movingAverage(runs: readonly (readonly boolean[])[], window = WINDOW): number[] {
  const length = Math.min(...runs.map((r) => r.length));
  const mean = Array.from({ length }, (_, t) => runs.reduce((s, r) => s + (r[t] ? 1 : 0), 0) / runs.length);
  const out: number[] = [];
  let sum = 0;
  for (let t = 0; t < length; t++) {
    sum += mean[t] as number;
    if (t >= window) sum -= mean[t - window] as number;
    out.push(sum / Math.min(t + 1, window));
  }
  return out;
}

interface Line {
  readonly label: string;
  readonly colour: string;
  readonly values: readonly number[];
  readonly dashed?: boolean;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function panel(top: number, title: string, lines: readonly Line[], marker?: number): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (t: number) => MARGIN.left + (t / TASKS) * plotWidth;
  const y = (v: number) => top + MARGIN.top + (1 - v) * plotHeight;
  const parts: string[] = [`<text x="${MARGIN.left}" y="${top + 20}" font-size="14" font-weight="bold">${escape(title)}</text>`];
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${MARGIN.left - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end">${v * 100} %</text>`,
    );
  }
  for (let t = 0; t <= TASKS; t += 250) {
    parts.push(`<text x="${x(t).toFixed(1)}" y="${top + PANEL_HEIGHT - MARGIN.bottom + 16}" font-size="11" text-anchor="middle">${t}</text>`);
  }
  parts.push(`<text x="${MARGIN.left + plotWidth / 2}" y="${top + PANEL_HEIGHT - 2}" font-size="11" text-anchor="middle">task</text>`);
  if (marker !== undefined) {
    parts.push(`<line x1="${x(marker)}" x2="${x(marker)}" y1="${y(1)}" y2="${y(0)}" stroke="#000" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${x(marker) + 4}" y="${y(0.04)}" font-size="11">permuted</text>`);
  }
  lines.forEach((line, i) => {
    const points = line.values.map((v, t) => `${x(t + 1).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(
      `<polyline fill="none" stroke="${line.colour}" stroke-width="1.6"${line.dashed ? ' stroke-dasharray="5 3"' : ''} points="${points}"/>`,
      `<line x1="${WIDTH - MARGIN.right + 14}" x2="${WIDTH - MARGIN.right + 38}" y1="${top + MARGIN.top + 10 + i * 18}" y2="${top + MARGIN.top + 10 + i * 18}" stroke="${line.colour}" stroke-width="2"${line.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
      `<text x="${WIDTH - MARGIN.right + 44}" y="${top + MARGIN.top + 14 + i * 18}" font-size="12">${escape(line.label)}</text>`,
    );
  });
  parts.push(`<rect x="${MARGIN.left}" y="${y(1)}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#999"/>`);
  return parts.join('\n');
}

/** The figure, from the bench's runs. */
export function renderSvg(runs: SwarmLearningRuns): string {
  const modes = Object.keys(MODES) as Mode[];
  const panels = modes.map((mode, i) =>
    panel(i * PANEL_HEIGHT, `Success rate, ${MODES[mode].label} (moving average over ${WINDOW} tasks, mean of ${runs.seeds.length} seeds)`, [
      { label: 'swarm', colour: COLOURS.swarm, values: movingAverage(runs.stationary[mode].swarm) },
      { label: 'default', colour: COLOURS.default, values: movingAverage(runs.stationary[mode].default) },
      { label: 'round-robin', colour: COLOURS.round_robin, values: movingAverage(runs.stationary[mode].round_robin) },
    ]),
  );
  panels.push(
    panel(
      modes.length * PANEL_HEIGHT,
      `Swarm, compatibility permuted after task ${SHIFT_AT}`,
      [
        { label: 'swarm, 1 at a time', colour: COLOURS.shift_one, values: movingAverage(runs.shifted.one) },
        { label: 'swarm, 10 at a time', colour: COLOURS.shift_ten, values: movingAverage(runs.shifted.ten), dashed: true },
      ],
      SHIFT_AT,
    ),
  );
  const height = (modes.length + 1) * PANEL_HEIGHT;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    ...panels,
    '</svg>',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const argument = (name: string) => {
    const at = process.argv.indexOf(name);
    return at >= 0 ? process.argv[at + 1] : undefined;
  };
  const from = argument('--from');
  const out = argument('--out') ?? join(__dirname, '..', 'docs', 'swarm-learning.svg');
  const runs: SwarmLearningRuns = from ? JSON.parse(readFileSync(from, 'utf8')) : await runAll(benchSeeds());
  if (!from) for (const line of report(runs)) console.log(line);
  writeFileSync(out, renderSvg(runs));
  console.log(`wrote ${out}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
