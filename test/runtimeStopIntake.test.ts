import { SimulatedClock } from 'xstate';
import { createNeuroFlux, NotRunningError } from '../src';

describe('nf.stop(): intake closes in the synchronous call', () => {
  test('a submission right after an un-awaited nf.stop() is refused with NotRunningError', async () => {
    const nf = createNeuroFlux({ clock: new SimulatedClock() });
    nf.orchestrator.registerAgent('worker', { capabilities: ['x'], execute: () => 'done' });
    await nf.start();
    const stopped = nf.stop();
    expect(nf.orchestrator.actor.getSnapshot().matches('stopping')).toBe(true);
    expect(() => nf.orchestrator.submitTask({ taskId: 'late', requiredCapabilities: ['x'] })).toThrow(NotRunningError);
    const late = nf.orchestrator.submitWorkflowAsync({ tasks: [{ taskId: 'late2', requiredCapabilities: ['x'] }] });
    await expect(late).rejects.toThrow(NotRunningError);
    await stopped;
    expect(nf.orchestrator.getTask('late')).toBeUndefined();
    expect(nf.orchestrator.getTask('late2')).toBeUndefined();
    expect(nf.system.getSnapshot().status).toBe('stopped');
  });
});
