/**
 * A child process for the crash test: an orchestrator with a file store. It restores what a
 * previous (killed) process left, submits the 200-task workflow if there is nothing, and
 * exits 0 once every task is final. Usage: crashOrchestrator.ts <state directory>
 */
import { FileSnapshotStore, createNeuroFlux, type TaskInput } from '../../src';

async function main(): Promise<void> {
  const directory = process.argv[2] as string;
  // Small archive segments: kills also land while finished tasks are being sealed.
  const nf = createNeuroFlux({ orchestrator: { store: new FileSnapshotStore({ directory }), archiveSegmentSize: 16 } });
  nf.orchestrator.registerAgent('worker', {
    capabilities: ['work'],
    maxConcurrentTasks: 8,
    execute: (task) => new Promise((resolve) => setTimeout(() => resolve(`${task.taskId}@${process.pid}`), 1 + Math.random() * 8)),
  });
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
  await nf.stop(); // flushes the last write
  process.stdout.write('done\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});
