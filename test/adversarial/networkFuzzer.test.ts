/**
 * The network fuzzer: a raw NATS client publishes 50 000 random and mutated frames (set
 * FUZZ_FRAMES for a longer run; 100 000 passed when it was written) into
 * every subject an orchestrator and an agent host listen on, with and without HMAC, while a
 * workflow is in flight, plus targeted forgeries of that workflow's results. Afterwards:
 * - the process is alive (no uncaught exception, no unhandled rejection);
 * - every frame each runtime received is counted as refused (by reason), a duplicate, or
 *   handed to its bus;
 * - no task's result differs from what its real executor returned;
 * - both runtimes still complete a workflow.
 *
 * KV subjects (`$KV.*`) are left out on purpose: a client allowed to write a runtime's KV
 * bucket can rewrite its state; that is closed by NATS permissions (docs/security.md), not by
 * frame checks.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AgentHost, createNeuroFlux, type NeuroFlux } from '../../src';
import type { NatsTransport } from '../../src/transport';
import { nats } from '../../src/transport';
import { parseFrame } from '../../src/bus/message';
import { batchElementJson } from '../../src/transport/batchElement';
import { cleanupAfterEach } from '../support/cleanup';
import { concreteSubject, FrameFuzzer, messageIdsOf, seededRandom, type CapturedFrame } from '../support/frameFuzzer';
import { describeWithServer, freePort, NATS_SERVER_BIN, startNatsServerWith, waitFor } from '../support/servers';

// 50 000 per mode keeps the whole suite within its 5 minutes on 2 cores.
const FRAMES = Number(process.env.FUZZ_FRAMES ?? 50_000);
/** Frames published before the fuzzer lets the runtimes catch up (keeps the server from cutting a slow consumer). */
const CHUNK = 500;
const HMAC = 'fuzz-secret-0123456789abcdef';

interface FrameAccount {
  received: number;
  refused: number;
  duplicates: number;
  handedToBus: number;
}

/**
 * Counts every frame the bus is handed, so that the transport's counters can be checked
 * against it, and keeps the ids of the messages it accepted (a replay is an id accepted twice).
 */
function countHandedFrames(nf: NeuroFlux): { readonly count: number; readonly accepted: Map<string, number> } {
  const counter = { count: 0, accepted: new Map<string, number>() };
  const bus = nf.bus as unknown as { acceptFrame: (...args: unknown[]) => { messageId: string } | undefined };
  const original = bus.acceptFrame.bind(bus);
  bus.acceptFrame = (...args: unknown[]) => {
    counter.count++;
    const message = original(...args);
    if (message) counter.accepted.set(message.messageId, (counter.accepted.get(message.messageId) ?? 0) + 1);
    return message;
  };
  return counter;
}

function account(transport: NatsTransport, handed: { readonly count: number }): FrameAccount {
  const stats = transport.getStats();
  const refused = Object.values(stats.rejected).reduce((a, b) => a + b, 0);
  return { received: stats.received, refused, duplicates: stats.duplicates, handedToBus: handed.count };
}

/** The subjects the other connections of the server subscribe to (from its monitoring endpoint). */
async function listenedSubjects(monitorPort: number, exceptCid: number | undefined): Promise<string[]> {
  const response = await fetch(`http://127.0.0.1:${monitorPort}/connz?subs=1`);
  const body = (await response.json()) as { connections?: { cid: number; subscriptions_list?: string[] }[] };
  const subjects = new Set<string>();
  for (const c of body.connections ?? []) {
    if (c.cid === exceptCid) continue;
    for (const s of c.subscriptions_list ?? []) if (!s.startsWith('_INBOX') && !s.startsWith('$KV')) subjects.add(s);
  }
  return [...subjects].sort();
}

describeWithServer(NATS_SERVER_BIN, 'network fuzzer: 100k hostile frames into every subject a runtime listens on', () => {
  const cleanup = cleanupAfterEach();
  const crashes: unknown[] = [];
  const onCrash = (error: unknown) => crashes.push(error);
  beforeAll(() => {
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
  });
  afterAll(() => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  });

  for (const signed of [false, true]) {
    test(`${signed ? 'with' : 'without'} HMAC: alive, every frame counted, no task changed, workflows still complete`, async () => {
      const monitorPort = await freePort();
      const server = await startNatsServerWith(['-m', String(monitorPort)]);
      cleanup.defer(() => server.stop());
      const namespace = signed ? 'fuzzsigned' : 'fuzzplain';
      const transportOptions = { servers: [server.url], namespace, ...(signed && { hmacSecret: HMAC }) };

      const orchestratorTransport = nats(transportOptions);
      const orchestratorRuntime = cleanup.add(createNeuroFlux({ transport: orchestratorTransport }));
      const hostTransport = nats(transportOptions);
      const hostRuntime = cleanup.add(createNeuroFlux({ transport: hostTransport, orchestrator: false }));
      const handed = { orchestrator: countHandedFrames(orchestratorRuntime), host: countHandedFrames(hostRuntime) };

      // What each executor really returned, per task: a completed task must carry exactly this.
      const returned = new Map<string, unknown>();
      let gate: Promise<void> = Promise.resolve();
      const host = new AgentHost({ bus: hostRuntime.bus, hostId: 'fuzz-host' });
      host.addAgent('fuzz-worker', {
        capabilities: ['work'],
        maxConcurrentTasks: 50,
        execute: async (task) => {
          if (task.taskId.startsWith('w2-')) await gate;
          const value = { honest: task.taskId };
          returned.set(task.taskId, value);
          return value;
        },
      });
      await orchestratorRuntime.start();
      await hostRuntime.start();
      host.start();
      cleanup.defer(() => host.stop());
      await waitFor(() => orchestratorRuntime.orchestrator.getAgent('fuzz-worker') !== undefined, 60_000, 'the host to announce its agent');
      if (process.env.FUZZ_DEBUG) console.log('agent announced');

      // Workflow 1 while a raw client records every frame of the namespace: the fuzzer's raw material.
      const raw: NatsConnection = cleanup.add(await connect({ servers: [server.url], name: 'fuzzer' }));
      const captured: CapturedFrame[] = [];
      const capture = raw.subscribe(`nf.${namespace}.>`, {
        callback: (err, msg) => {
          if (err || captured.length >= 2000) return;
          const headers: Record<string, string> = {};
          if (msg.headers) for (const [k, v] of msg.headers) headers[k] = v[0] ?? '';
          captured.push({ subject: msg.subject, headers, data: Uint8Array.from(msg.data) });
        },
      });
      const chain = (prefix: string, n: number) =>
        Array.from({ length: n }, (_, i) => ({ taskId: `${prefix}-${i}`, requiredCapabilities: ['work'], dependencies: i >= 2 ? [`${prefix}-${i - 2}`] : [] }));
      const w1 = chain('w1', 20);
      orchestratorRuntime.orchestrator.submitWorkflow({ tasks: w1 });
      await orchestratorRuntime.orchestrator.waitForWorkflow(w1.map((t) => t.taskId));
      await raw.flush();
      capture.unsubscribe();
      if (process.env.FUZZ_DEBUG) console.log('workflow 1 done', captured.length);
      expect(captured.some((f) => f.subject.includes('durable'))).toBe(true);

      const capturedIds = new Set(captured.flatMap(messageIdsOf));
      const subjects = await listenedSubjects(monitorPort, raw.info?.client_id);
      expect(subjects.length).toBeGreaterThan(3);
      const random = seededRandom(signed ? 2 : 1);
      const targets = [...subjects.map((s) => concreteSubject(s, random)), ...new Set(captured.map((f) => f.subject))];
      // None of this traffic is batched (tasks travel durably, never batched): batch frames of its
      // messages on the core subjects the runtimes listen on, two compact elements and one object
      // element each, for the fuzzer to mutate.
      const coreTargets = targets.filter((t) => !t.includes('durable'));
      const messages = captured.filter((f) => f.headers['Nf-Encoding'] === undefined).map((f) => JSON.parse(new TextDecoder().decode(f.data)) as unknown);
      for (let i = 0; i + 3 <= messages.length && i < 90; i += 3) {
        const body = `[${messages
          .slice(i, i + 3)
          .map((m, j) => (j === 2 ? JSON.stringify(m) : batchElementJson(parseFrame(m, Date.now()))))
          .join(',')}]`;
        captured.push({ subject: coreTargets[(i / 3) % coreTargets.length] as string, headers: { 'Nf-Batch': '3' }, data: new TextEncoder().encode(body) });
      }
      expect(captured.filter((f) => f.headers['Nf-Batch'] !== undefined).length).toBeGreaterThan(5);

      // Workflow 2 is held in its executor while the fuzzer runs: its results are what forgeries aim at.
      let open!: () => void;
      gate = new Promise<void>((resolve) => (open = resolve));
      const w2 = chain('w2', 10);
      orchestratorRuntime.orchestrator.submitWorkflow({ tasks: w2 });

      const before = { orchestrator: account(orchestratorTransport, handed.orchestrator), host: account(hostTransport, handed.host) };
      const fuzzer = new FrameFuzzer(signed ? 20 : 10, targets, captured);
      const resultFrames = captured.filter((f) => /"topic":"task_result"/.test(new TextDecoder().decode(f.data)));
      const kinds: Record<string, number> = {};
      for (let sent = 0; sent < FRAMES;) {
        for (let i = 0; i < CHUNK && sent < FRAMES; i++, sent++) {
          const frame = fuzzer.next();
          kinds[frame.kind] = (kinds[frame.kind] ?? 0) + 1;
          raw.publish(frame.subject, frame.data, frame.headers ? { headers: frame.headers } : undefined);
        }
        // Forged results for the held tasks, with every small dispatch number a forger would guess.
        const template = resultFrames[(sent / CHUNK) % Math.max(1, resultFrames.length)];
        for (const { taskId } of template ? w2 : []) {
          const frame = JSON.parse(new TextDecoder().decode((template as CapturedFrame).data)) as { messageId: string; timestamp: number; payload: Record<string, unknown> };
          frame.messageId = `forged-${sent}-${taskId}`;
          frame.timestamp = Date.now();
          frame.payload = { ...frame.payload, taskId, attempt: 0, dispatch: (sent / CHUNK) % 64, status: 'completed', result: { forged: true } };
          raw.publish((template as CapturedFrame).subject, new TextEncoder().encode(JSON.stringify(frame)));
          kinds.forged = (kinds.forged ?? 0) + 1;
        }
        await raw.flush();
        await new Promise((resolve) => setImmediate(resolve));
        if (process.env.FUZZ_DEBUG && sent % 10_000 === 0)
          console.log(sent, JSON.stringify(account(orchestratorTransport, handed.orchestrator)), JSON.stringify(account(hostTransport, handed.host)));
      }
      console.log(`fuzzer (${signed ? 'HMAC' : 'no HMAC'}): published ${JSON.stringify(kinds)} into ${targets.length} subjects`);

      // Every frame each runtime received is accounted for, once the runtimes caught up.
      const settled = async (): Promise<boolean> => {
        const a = account(orchestratorTransport, handed.orchestrator);
        await new Promise((resolve) => setTimeout(resolve, 200));
        return account(orchestratorTransport, handed.orchestrator).received === a.received;
      };
      await waitFor(settled, 60_000, 'the runtimes to take in the fuzzed frames');
      for (const [name, transport, counter] of [
        ['orchestrator', orchestratorTransport, handed.orchestrator],
        ['host', hostTransport, handed.host],
      ] as const) {
        const now = account(transport, counter);
        const then = before[name];
        const delta = {
          received: now.received - then.received,
          refused: now.refused - then.refused,
          duplicates: now.duplicates - then.duplicates,
          handedToBus: now.handedToBus - then.handedToBus,
        };
        console.log(`${name}: ${JSON.stringify(delta)}`);
        expect(delta.received).toBeGreaterThan(0);
        expect(delta.refused + delta.duplicates + delta.handedToBus).toBe(delta.received);
        if (signed) expect(delta.handedToBus).toBeLessThan(delta.received / 10);
        // Workflow 1 was over before the fuzzer began: with a secret, none of its frames may be
        // taken in again. Without one, a replay is indistinguishable from a new frame (its id
        // can be changed at will): NATS permissions are the defence there (docs/security.md).
        const replaysAccepted = [...counter.accepted].filter(([id, n]) => capturedIds.has(id) && n > 1).length;
        if (signed) expect(replaysAccepted).toBe(0);
        else console.log(`${name}: ${replaysAccepted} replayed frames accepted without HMAC`);
      }

      open();
      const w2Records = await orchestratorRuntime.orchestrator.waitForWorkflow(w2.map((t) => t.taskId));
      for (const record of w2Records) {
        expect(record.status).toBe('completed');
        expect(record.result).toEqual(returned.get(record.taskId));
      }
      const w3 = chain('w3', 10);
      orchestratorRuntime.orchestrator.submitWorkflow({ tasks: w3 });
      const w3Records = await orchestratorRuntime.orchestrator.waitForWorkflow(w3.map((t) => t.taskId));
      expect(w3Records.map((r) => r.status)).toEqual(w3.map(() => 'completed'));
      expect(crashes).toEqual([]);
    }, 240_000);
  }
});
