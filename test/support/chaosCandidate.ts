/**
 * An orchestrator candidate of the chaos run (bench/chaos.ts): leader election on a NATS KV
 * bucket, streams and bucket with the given replicas. While leading it submits the chaos DAGs
 * on their schedule (DAG `d` at `startAt + d × dagEveryMs`) unless its restored state has them.
 *
 * Prints, one per line:
 * - `ready` once started (its streams exist), `leader <holder> <finishedAtTakeover>` once it leads;
 * - `finished <taskId> <status> <durationMs|->` for each task that finishes here;
 * - `double <taskId>` when a task finishes a second time in this process, or finishes though
 *   it was already final in the state restored at takeover (a result recorded twice);
 * - `alldone` once every DAG is submitted and every task is final (leader only);
 * - `deposed [last claim error]` before it exits (the lease was lost: the chaos run starts a new candidate).
 *
 * Usage: chaosCandidate.ts '<json options>' (see OptionsSchema).
 */
import { connect } from '@nats-io/transport-node';
import { z } from 'zod';
import { NatsKvSnapshotStore, createNeuroFlux, nats, type SnapshotStore } from '../../src';
import { chaosDag, chaosTaskIds } from './chaosWorkflow';

const OptionsSchema = z.object({
  servers: z.array(z.string().min(1)).min(1),
  namespace: z.string().regex(/^[A-Za-z0-9_-]+$/),
  holder: z.string().min(1),
  ttlMs: z.number().int().positive(),
  replicas: z.number().int().min(1).max(5),
  dags: z.number().int().positive(),
  startAt: z.number(),
  dagEveryMs: z.number().nonnegative(),
  /** Print `trace` lines: every lease and orchestrator-state write (expected revision, outcome) and election state. */
  trace: z.boolean().default(false),
});

/** The store, printing each write of the lease and of the orchestrator's state with its outcome. */
function tracedStore(store: SnapshotStore, out: (line: string) => void): SnapshotStore {
  const t0 = Date.now();
  const at = () => String(Date.now() - t0).padStart(6);
  return {
    load: async (key) => {
      const loaded = await store.load(key);
      if (!key.includes('.archive.')) out(`trace ${at()} load ${key} -> rev ${loaded?.revision ?? 0}`);
      return loaded as never;
    },
    save: async (key, value, expected) => {
      try {
        const revision = await store.save(key, value, expected);
        if (!key.includes('.archive.')) out(`trace ${at()} save ${key} expected ${expected ?? '-'} -> rev ${revision}`);
        return revision;
      } catch (error) {
        out(`trace ${at()} save ${key} expected ${expected ?? '-'} -> ${String(error).replace(/\s+/g, ' ')}`);
        throw error;
      }
    },
    delete: (key) => store.delete(key),
    keys: () => store.keys(),
    close: () => store.close(),
  };
}

const FINAL = new Set(['completed', 'failed', 'cancelled']);

async function main(): Promise<void> {
  const options = OptionsSchema.parse(JSON.parse(process.argv[2] ?? '{}'));
  const { servers, namespace, holder, ttlMs, replicas, dags } = options;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const connection = await connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  const kvStore = await NatsKvSnapshotStore.open(connection, { bucket: `nf_${namespace}`, replicas });
  const store = options.trace ? tracedStore(kvStore, out) : kvStore;
  const nf = createNeuroFlux({
    transport: nats({ servers, namespace, name: holder, replicas }),
    orchestrator: { store, leaderElection: { holder, ttlMs } },
  });
  const ids = chaosTaskIds(dags);
  const seen = new Set<string>();
  // Filled at takeover: a task finished before it and again after is a double execution.
  const finalAtTakeover = new Set<string>();
  nf.orchestrator.finished$.subscribe((event) => {
    out(`finished ${event.taskId} ${event.status} ${event.durationMs ?? '-'}`);
    if (seen.has(event.taskId) || finalAtTakeover.has(event.taskId)) out(`double ${event.taskId}`);
    seen.add(event.taskId);
  });
  nf.leadership?.state$.subscribe((state) => {
    if (options.trace) out(`trace election ${state}`);
    if (state !== 'deposed') return;
    // Why: the election's last claim error (e.g. a store request that timed out).
    out(`deposed ${(nf.leadership?.getStats().lastError ?? '').replace(/\s+/g, ' ')}`.trim());
    // Exit only after stdout is flushed: the chaos run counts what was printed.
    process.stdout.write('', () => process.exit(0));
  });
  await nf.start();
  out('ready');
  const stop = () => {
    // What a leader still has open when the run ends: the chaos run shows it when tasks are lost.
    if (nf.leadership?.state === 'leader') {
      const open = ids.map((id) => nf.orchestrator.getTask(id)).filter((t) => t !== undefined && !FINAL.has(t.status));
      for (const t of open.slice(0, 10))
        out(
          `open ${t?.taskId} ${t?.state} ${t?.assignedAgent ?? '-'} retries=${t?.retryCount} deps=${t?.dependencies.map((d) => `${d}:${nf.orchestrator.getTask(d)?.state ?? 'unknown'}`).join(',')}`,
        );
      const { agents, hosts, pendingTasks, assignedTasks, runningTasks, lateResults, persistence } = nf.orchestrator.getStats();
      out(`stats ${JSON.stringify({ open: open.length, pendingTasks, assignedTasks, runningTasks, agents, hosts, lateResults, persistence })}`);
    }
    void nf
      .stop()
      .then(() => connection.close())
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  // Deposed while taking over (e.g. its claim on the state kept losing): the `deposed` line exits.
  await nf.leadership?.whenLeader().catch(() => new Promise<never>(() => undefined));
  for (const id of ids) if (FINAL.has(nf.orchestrator.getTask(id)?.status ?? '')) finalAtTakeover.add(id);
  out(`leader ${holder} ${finalAtTakeover.size}`);

  const submitted = new Array<boolean>(dags).fill(false);
  let announced = false;
  const tick = () => {
    if (nf.leadership?.state !== 'leader') return;
    for (let d = 0; d < dags; d++) {
      if (submitted[d] || Date.now() < options.startAt + d * options.dagEveryMs) continue;
      // Restored, or submitted by a leader before us: its records are ours now.
      if (nf.orchestrator.getTask(`d${d}-0`) === undefined) nf.orchestrator.submitWorkflow({ tasks: chaosDag(d) }, { requireCapableAgents: false });
      submitted[d] = true;
    }
    if (!announced && submitted.every(Boolean) && ids.every((id) => FINAL.has(nf.orchestrator.getTask(id)?.status ?? ''))) {
      announced = true;
      out('alldone');
    }
  };
  setInterval(tick, 200);
  tick();
  if (options.trace) {
    // A leader that stops making progress shows as the same counts line after line.
    setInterval(() => {
      if (nf.leadership?.state !== 'leader') return;
      const { tasksCompleted, pendingTasks, assignedTasks, runningTasks, lateResults, refusedResults, agents } = nf.orchestrator.getStats();
      const load = Object.entries(agents)
        .map(([id, a]) => `${id}=${a.load}`)
        .join(',');
      const assigned = ids
        .map((id) => nf.orchestrator.getTask(id))
        .filter((t) => t?.state === 'assigned')
        .slice(0, 6);
      const waiting = assigned.map((t) => `${t?.taskId}#${t?.retryCount}@${t?.assignedAgent}`).join(',');
      out(
        `trace progress completed=${tasksCompleted} pending=${pendingTasks} assigned=${assignedTasks} running=${runningTasks} late=${lateResults} refused=${JSON.stringify(refusedResults)} load=${load} assigned=${waiting}`,
      );
    }, 5000);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
