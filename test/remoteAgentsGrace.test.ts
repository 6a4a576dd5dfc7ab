/**
 * `run --remote-agents` learns of hosts from their heartbeats: a host that was running before
 * the run is heard of only at its next beat (1 s by default). "No agent host has announced
 * itself" (and a stall it causes) is held back for HOST_ANNOUNCE_GRACE_MS on the runtime's
 * clock, here a simulated one: no real time, no margin.
 */
import { SimulatedClock } from 'xstate';
import { AgentHost, createNeuroFlux } from '../src';
import { ExitCode } from '../src/cli/exitCodes';
import { HOST_ANNOUNCE_GRACE_MS, superviseWorkflowRun } from '../src/cli/workflowRun';
import { cleanupAfterEach } from './support/cleanup';
import { settle } from './support/settle';

const cleanup = cleanupAfterEach();

async function remoteRun(stallTimeoutMs: number) {
  const clock = new SimulatedClock();
  const nf = cleanup.add(createNeuroFlux({ clock }));
  await nf.start();
  let err = '';
  let exitCode: ExitCode | undefined;
  const running = superviseWorkflowRun(nf, {
    tasks: [{ taskId: 'assess', requiredCapabilities: ['risk'] }],
    json: false,
    events: false,
    quiet: true,
    stallTimeoutMs,
    remoteAgents: true,
    transport: true,
    namespace: 'grace',
    stateDir: undefined,
    stdout: () => undefined,
    stderr: { write: (text) => void (err += text), isTTY: false },
    interrupted: undefined,
  }).then((code) => (exitCode = code));
  await settle();
  return { nf, clock, running, err: () => err, exitCode: () => exitCode };
}

test('a host heard of within the grace period: not reported missing, the run completes even with --stall-timeout 0', async () => {
  const run = await remoteRun(0);
  run.clock.increment(HOST_ANNOUNCE_GRACE_MS - 250);
  await settle();
  expect({ err: run.err(), exitCode: run.exitCode() }).toEqual({ err: '', exitCode: undefined });
  const host = new AgentHost({ bus: run.nf.bus, hostId: 'late' });
  host.addAgent('late-risk', { capabilities: ['risk'], execute: () => 'assessed' });
  host.start();
  cleanup.defer(() => host.stop());
  await run.running;
  expect({ err: run.err(), exitCode: run.exitCode() }).toEqual({ err: '', exitCode: ExitCode.SUCCESS });
});

test('no host by the end of the grace period: named, and the stall timeout counts from then', async () => {
  const run = await remoteRun(1000);
  run.clock.increment(HOST_ANNOUNCE_GRACE_MS - 1);
  await settle();
  expect(run.err()).toBe('');
  run.clock.increment(250);
  await settle();
  expect(run.err()).toContain("no agent host has announced itself on namespace 'grace'");
  expect(run.exitCode()).toBeUndefined();
  run.clock.increment(1000);
  await run.running;
  expect(run.exitCode()).toBe(ExitCode.CANNOT_RUN);
});
