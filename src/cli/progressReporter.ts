import type { CliOutput } from './main';

/** What {@link progressReporter} returns. @internal */
export interface ProgressReporter {
  /** Progress moved: redraws the bar (terminal), or prints a line when a new tenth is reached (pipe). */
  update(done: number, total: number, detail?: string): void;
  /** Time passed: redraws the bar, or prints a line even if no tenth was reached (a pipe then shows the run is alive). */
  heartbeat(done: number, total: number, detail?: string): void;
  /** Ends the bar's line. */
  done(): void;
}

/**
 * A progress bar on a terminal, plain lines (every 10 %, and on each `heartbeat`) when the
 * output is piped, so logs stay readable.
 * @internal
 */
export function progressReporter(output: CliOutput, unit: string): ProgressReporter {
  let lastDecile = -1;
  let drawn = false;
  const text = (done: number, total: number, detail: string | undefined) => `${done}/${total} ${unit}${detail ? ` ${detail}` : ''}`;
  const draw = (done: number, total: number, detail: string | undefined) => {
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    // Erase to the end of the line: a shorter detail must not leave the old one's tail.
    output.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text(done, total, detail)}\x1b[K`);
    drawn = true;
  };
  return {
    update(done, total, detail) {
      if (output.isTTY) return draw(done, total, detail);
      const decile = total === 0 ? 10 : Math.floor((done / total) * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        output.write(`progress: ${text(done, total, detail)}\n`);
      }
    },
    heartbeat(done, total, detail) {
      if (output.isTTY) return draw(done, total, detail);
      output.write(`progress: ${text(done, total, detail)}\n`);
    },
    done() {
      if (drawn) output.write('\n');
      drawn = false;
    },
  };
}
