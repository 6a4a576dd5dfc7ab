/**
 * examples/autoscaling-nats.ts against a private nats-server: a burst of tasks scales
 * `neuroflux host` processes up, every task completes, idleness scales them back down to the
 * minimum, and no host process outlives the manager. Waits on events, not on time.
 */
import { runAutoscaling } from '../examples/autoscaling-nats';
import { describeWithServer, NATS_SERVER_BIN, natsServerForSuite } from './support/servers';

describeWithServer(NATS_SERVER_BIN, 'examples/autoscaling-nats: hosts scaled over NATS', () => {
  const server = natsServerForSuite();

  test('scales up under the burst, completes every task, scales back down, leaves no process', async () => {
    const output: string[] = [];
    const report = await runAutoscaling(server().url, (line) => output.push(line));
    const context = `\n${output.join('\n')}`;
    expect({ completed: report.completed, tasks: report.tasks, context: '' }).toEqual({ completed: 160, tasks: 160, context: '' });
    expect(Object.values(report.perHost).reduce((a, b) => a + b, 0)).toBe(160);
    // Up during the burst: the decision was taken on waiting tasks, and more than one host ran.
    const up = report.decisions.find((d) => /^scale_up compute 1→[2-4] \(\d+ tasks waiting/.exec(d));
    expect(up ?? `no burst scale-up in:${context}`).toMatch(/^scale_up/);
    expect(report.peakHosts).toBeGreaterThan(1);
    // Down again, one idle host at a time, to the minimum.
    expect(report.decisions.at(-1)).toMatch(/^scale_down compute 2→1 \(no task waiting/);
    expect(report.hostsAtEnd).toBe(1);
    expect(report.orphans).toBe(0);
    const failures = report.decisions.filter((d) => d.startsWith('scaling_failed'));
    expect({ failures, context: failures.length > 0 ? context : '' }).toEqual({ failures: [], context: '' });
  }, 240_000);
});
