/**
 * A refused inspector action is a NeuroFluxError with a code (review RA finding 9: plain
 * Errors), and the page still gets HTTP 409 with its message.
 */
import { ErrorCode, NeuroFluxError } from '../src/errors';
import { runAction, runtimeActions } from '../src/observability/inspector/inspectorActions';
import { InspectorActionRefusedError } from '../src/observability/observabilityErrors';

describe('inspector action refusals', () => {
  // Only what cancelTask touches: an orchestrator that says the task is finished.
  const runtime = { orchestrator: { cancelTask: () => false } } as unknown as Parameters<typeof runtimeActions>[0];

  it('cancelling a finished task rejects with InspectorActionRefusedError (ERR_INSPECTOR_ACTION_REFUSED)', async () => {
    const refusal = runtimeActions(runtime).cancelTask?.('t1');
    await expect(refusal).rejects.toBeInstanceOf(InspectorActionRefusedError);
    await expect(refusal).rejects.toBeInstanceOf(NeuroFluxError);
    await expect(refusal).rejects.toMatchObject({ code: ErrorCode.INSPECTOR_ACTION_REFUSED, message: 'task t1 is already finished' });
  });

  it('the page gets 409 and the message', async () => {
    expect(await runAction(runtimeActions(runtime), { action: 'cancelTask', taskId: 't1' })).toEqual({ status: 409, reply: { ok: false, error: 'task t1 is already finished' } });
  });
});
