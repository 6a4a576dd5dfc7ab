import type { CliOutput } from './main';

/**
 * A progress bar on a terminal, plain lines (every 10 %) when the output is piped, so logs
 * stay readable.
 * @internal
 */
export function progressReporter(output: CliOutput, unit: string): { update(done: number, total: number): void; done(): void } {
  let lastDecile = -1;
  let drawn = false;
  return {
    update(done, total) {
      if (output.isTTY) {
        const width = 30;
        const filled = Math.round((done / total) * width);
        output.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${unit}`);
        drawn = true;
        return;
      }
      const decile = Math.floor((done / total) * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        output.write(`progress: ${done}/${total} ${unit}\n`);
      }
    },
    done() {
      if (drawn) output.write('\n');
    },
  };
}
