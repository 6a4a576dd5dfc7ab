/**
 * A second process for the cross-process NATS tests: one agent `host` that answers
 * requests, acknowledges commands, and reports events and broadcasts back to their
 * sender as commands. Usage: node -r @swc-node/register natsAgentHost.ts <url> <namespace> [hmacSecret]
 */
import { createNeuroFlux } from '../../src/runtime/createNeuroFlux';
import { nats } from '../../src/transport';

async function main(): Promise<void> {
  const [url, namespace, hmacSecret] = process.argv.slice(2);
  if (!url || !namespace) throw new Error('usage: natsAgentHost <url> <namespace> [hmacSecret]');
  const nf = createNeuroFlux({
    transport: nats({ servers: url, namespace, ...(hmacSecret && { hmacSecret }) }),
    orchestrator: { orchestratorId: 'host-orchestrator' },
  });
  nf.bus.registerAgent('host', {
    topics: ['market.>'],
    handler: (m, agent) => {
      if (m.messageType === 'request') agent.respond(m, { echo: m.payload, pid: process.pid });
      else if (m.messageType === 'command') agent.send({ recipientId: m.senderId, messageType: 'notification', topic: 'ack', payload: m.payload, priority: m.priority });
      else agent.send({ recipientId: m.senderId, messageType: 'command', topic: `seen.${m.messageType}`, payload: { topic: m.topic, size: JSON.stringify(m.payload).length } });
    },
  });
  await nf.start();
  process.stdout.write('ready\n');
  const stop = () => void nf.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
