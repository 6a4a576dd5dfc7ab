import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { describeError } from '../../describeError';
import type { ObservedRuntime } from '../observedRuntime';
import { InspectorActionRefusedError } from '../observabilityErrors';
import type { ActionReply, ActionRequest } from './inspectorProtocol';

/** The header that carries the page's action token. @internal */
export const ACTION_TOKEN_HEADER = 'x-neuroflux-token';

/** Largest action request body accepted. */
const MAX_ACTION_BYTES = 4096;

/** What the page's buttons do, on the runtime (or runtimes) the inspector shows. */
export interface InspectorActions {
  /** Cancels a task that is not final yet. Resolves with what was done; rejects when refused. */
  cancelTask?(taskId: string): Promise<string>;
  /** Submits a failed (or timed out, or cancelled) task again with the same input. */
  retryTask?(taskId: string): Promise<string>;
  /** Stops assigning new tasks to an agent (tasks it runs go on). */
  pauseAgent?(agentId: string): Promise<string>;
  resumeAgent?(agentId: string): Promise<string>;
}

const id = z.string().min(1).max(400);

/** Validated action requests (the page's POST /api/actions bodies). @internal */
export const ActionRequestSchema: z.ZodType<ActionRequest> = z.discriminatedUnion('action', [
  z.object({ action: z.literal('cancelTask'), taskId: id }).strict(),
  z.object({ action: z.literal('retryTask'), taskId: id }).strict(),
  z.object({ action: z.literal('pauseAgent'), agentId: id }).strict(),
  z.object({ action: z.literal('resumeAgent'), agentId: id }).strict(),
]);

/** The page's token, compared in constant time. @internal */
export function tokenMatches(expected: string, given: string | string[] | undefined): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Runs a validated action. Returns the HTTP status and the reply.
 * @internal
 */
export async function runAction(actions: InspectorActions | undefined, body: unknown): Promise<{ status: number; reply: ActionReply }> {
  const parsed = ActionRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { status: 400, reply: { ok: false, error: `invalid action: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'unknown'}` } };
  }
  const request = parsed.data;
  const run =
    request.action === 'cancelTask'
      ? actions?.cancelTask?.bind(actions, request.taskId)
      : request.action === 'retryTask'
        ? actions?.retryTask?.bind(actions, request.taskId)
        : request.action === 'pauseAgent'
          ? actions?.pauseAgent?.bind(actions, request.agentId)
          : actions?.resumeAgent?.bind(actions, request.agentId);
  if (!run) return { status: 501, reply: { ok: false, error: `${request.action} is not available on this inspector` } };
  try {
    return { status: 200, reply: { ok: true, message: await run() } };
  } catch (error) {
    return { status: 409, reply: { ok: false, error: describeError(error) } };
  }
}

/** Reads a small JSON body; undefined when it is too large or not JSON. @internal */
export async function readJsonBody(stream: AsyncIterable<Buffer | string>): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_ACTION_BYTES) return undefined;
    chunks.push(buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The actions on a runtime of this process, through its orchestrator.
 * @internal
 */
export function runtimeActions(runtime: ObservedRuntime): InspectorActions {
  const { orchestrator } = runtime;
  return {
    async cancelTask(taskId) {
      if (!orchestrator.cancelTask(taskId)) throw new InspectorActionRefusedError(`task ${taskId} is already finished`);
      return `task ${taskId} cancelled`;
    },
    async retryTask(taskId) {
      const submission = orchestrator.retryTask(taskId);
      return `task ${taskId} submitted again as ${submission.taskId}`;
    },
    async pauseAgent(agentId) {
      return orchestrator.pauseAgent(agentId) ? `agent ${agentId} paused: it gets no new task` : `agent ${agentId} was already paused`;
    },
    async resumeAgent(agentId) {
      return orchestrator.resumeAgent(agentId) ? `agent ${agentId} resumed` : `agent ${agentId} was not paused`;
    },
  };
}
