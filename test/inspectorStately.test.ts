/**
 * Compatibility: the runtime's inspection events also go to Stately's inspector through
 * `@statelyai/inspect` (`createWebSocketInspector`). A local WebSocket server stands in for
 * Stately's relay (`@statelyai/inspect/server`) and records what arrives.
 *
 * `@statelyai/inspect` is ESM only and this project's Jest transform covers `.ts`/`.js`
 * files, so the runtime with Stately's inspector runs in a child Node process (real ESM),
 * the way an application would run it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';

const child = String.raw`
import { createRequire } from 'node:module';
import { createWebSocketInspector } from '@statelyai/inspect';
const require = createRequire(process.cwd() + '/');
require('@swc-node/register');
const { SimulatedClock } = require('xstate');
const { createNeuroFlux } = require('./src/runtime/createNeuroFlux.ts');
const { combineInspectionObservers, createInspectionHub } = require('./src/observability/index.ts');
const stately = createWebSocketInspector({ url: process.env.STATELY_URL });
const hub = createInspectionHub();
const nf = createNeuroFlux({ clock: new SimulatedClock(), inspect: combineInspectionObservers(hub.observer, stately.inspect) });
nf.orchestrator.registerAgent('worker', { capabilities: ['work'], execute: () => 'done' });
await nf.start();
const ids = nf.orchestrator.submitWorkflow({ tasks: [{ taskId: 'job', requiredCapabilities: ['work'] }] }).map((s) => s.taskId);
await nf.orchestrator.waitForWorkflow(ids);
process.stdout.write(JSON.stringify({ hubSawTask: hub.snapshot().actors.some((a) => a.systemId === 'task:job') }) + '\n');
// Stately's adapter sends from idle callbacks: give it time, then leave.
setTimeout(async () => { stately.stop(); await nf.stop(); process.exit(0); }, 1500);
`;

test('the same inspection events reach a Stately WebSocket inspector and the NeuroFlux hub', async () => {
  const received: { type: string; name?: string; definition?: string }[] = [];
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  server.on('connection', (socket) => socket.on('message', (data) => received.push(JSON.parse(data.toString()))));
  const port = (server.address() as { port: number }).port;
  try {
    await runChildAndCheck(port, received);
  } finally {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
}, 15_000);

async function runChildAndCheck(port: number, received: { type: string; name?: string; definition?: string }[]): Promise<void> {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', child], {
    cwd: join(__dirname, '..'),
    env: { ...process.env, STATELY_URL: `ws://127.0.0.1:${port}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise((resolve) => proc.once('exit', resolve));
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  expect(JSON.parse(stdout)).toEqual({ hubSawTask: true });

  expect(received.some((e) => e.type === '@xstate.snapshot')).toBe(true);
  expect(received.some((e) => e.type === '@xstate.event')).toBe(true);
  // Stately draws statecharts from the machine definition it is sent.
  const task = received.find((e) => e.type === '@xstate.actor' && e.name === 'task:job');
  expect(JSON.parse(task?.definition ?? '{}')).toMatchObject({ id: 'task', initial: 'waiting' });
}
