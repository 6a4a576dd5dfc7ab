/**
 * A child process for the crash test: an orchestrator with a file store. It restores what a
 * previous (killed) process left, submits the 200-task workflow if there is nothing, and
 * exits 0 once every task is final. Usage: crashOrchestrator.ts <state directory>
 *
 * It prints `started`, then `saved` once a write holding one of this run's completions has
 * landed; the test kills it only after that, so every killed run leaves progress behind. Its
 * executors wait for that write once a first task finished, so no run can finish its
 * workflow before it, however slow the machine is.
 */
import { FileSnapshotStore, createNeuroFlux, type SnapshotStore, type TaskInput } from '../../src';

async function main(): Promise<void> {
  const directory = process.argv[2] as string;
  let finishedOne = false;
  let markDurable!: () => void;
  const durable = new Promise<void>((resolve) => (markDurable = resolve));
  const files = new FileSnapshotStore({ directory });
  // A write started after this run's first completion holds it (the value is taken at the call).
  const store: SnapshotStore = {
    load: (key) => files.load(key),
    delete: (key) => files.delete(key),
    keys: () => files.keys(),
    close: () => files.close(),
    async save(key, value, expectedRevision) {
      const holdsProgress = finishedOne && key === 'orchestrator';
      const revision = await files.save(key, value, expectedRevision);
      if (holdsProgress) markDurable();
      return revision;
    },
  };
  // Small archive segments: kills also land while finished tasks are being sealed.
  const nf = createNeuroFlux({ orchestrator: { store, archiveSegmentSize: 16 } });
  nf.orchestrator.registerAgent('worker', {
    capabilities: ['work'],
    maxConcurrentTasks: 8,
    execute: async (task) => {
      if (finishedOne) await durable;
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 8));
      return `${task.taskId}@${process.pid}`;
    },
  });
  const finished = nf.orchestrator.events$.subscribe((event) => {
    if (event.type === 'task_finished') finishedOne = true;
  });
  void durable.then(() => process.stdout.write('saved\n'));
  await nf.start();
  if (nf.orchestrator.getStats().tasksCreated === 0) {
    const tasks: TaskInput[] = [];
    for (let i = 0; i < 200; i++) {
      const layer = Math.floor(i / 20);
      tasks.push({ taskId: `t${i}`, requiredCapabilities: ['work'], dependencies: layer > 0 ? [`t${i - 20}`] : [] });
    }
    nf.orchestrator.submitWorkflow({ tasks });
  }
  process.stdout.write('started\n');
  await nf.orchestrator.waitForWorkflow(Array.from({ length: 200 }, (_, i) => `t${i}`));
  finished.unsubscribe();
  await nf.stop(); // flushes the last write
  process.stdout.write('done\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});
