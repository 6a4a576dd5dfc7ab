/**
 * Ids with lone surrogates on the wire. UTF-8 turns every lone surrogate into U+FFFD, so
 * `job\uD800`, `job\uDBFF` and `job\uFFFD` once shared one subject token: a message for one
 * reached the other's process (which dead-lettered it as `no_route`: the bus re-checks the
 * recipient) and, on a work queue, possibly not its own. Loopback transport, no NATS.
 */
import { SimulatedClock } from 'xstate';
import { createNeuroFlux, LoopbackHub, silentLogger, type AnyDeadLetter, type NeuroFlux } from '../src';
import { idOfSubjectToken, Subjects, subjectToken, topicTokens } from '../src/transport/subjects';
import { cleanupAfterEach } from './support/cleanup';
import { settle } from './support/settle';

const cleanup = cleanupAfterEach();
const IDS = ['job\uD800', 'job\uDBFF', 'job\uFFFD'] as const;

describe('subject tokens of ill-formed ids', () => {
  test('the three ids get three tokens, each decoding back to its id', () => {
    const tokens = IDS.map(subjectToken);
    expect(new Set(tokens).size).toBe(3);
    tokens.forEach((token, i) => expect(idOfSubjectToken(token)).toBe(IDS[i]));
    const subjects = new Subjects('p');
    expect(new Set(IDS.map((id) => subjects.agentAll(id))).size).toBe(3);
    expect(new Set(IDS.map((id) => topicTokens(`news.${id}`))).size).toBe(3);
  });

  test('well-formed ids keep the tokens running peers use', () => {
    expect(subjectToken('risk_agent')).toBe('risk_agent');
    expect(subjectToken('a.b')).toBe('~YS5i');
    expect(subjectToken('job\uFFFD')).toBe(`~${Buffer.from('job\uFFFD', 'utf8').toString('base64url')}`);
    expect(subjectToken('\uD83D\uDE00')).toBe('~8J-YgA');
    expect(topicTokens('market.btc.>')).toBe('market.btc.>');
    expect(topicTokens('a b.*')).toBe(`~${Buffer.from('a b', 'utf8').toString('base64url')}.*`);
  });
});

describe('loopback transport: ill-formed agent ids reach their own agent only', () => {
  test('a message for each of job\\uD800, job\\uDBFF, job\\uFFFD (each on its own runtime) reaches that agent, no one dead-letters', async () => {
    const clock = new SimulatedClock();
    const hub = new LoopbackHub({ clock });
    const start = async (): Promise<NeuroFlux> => {
      const nf = cleanup.add(createNeuroFlux({ logger: silentLogger, transport: hub.transport({}), clock }));
      await nf.start();
      return nf;
    };
    const sender = await start();
    const received = new Map<string, unknown[]>();
    const deadLetters: AnyDeadLetter[] = [];
    sender.bus.deadLetters$.subscribe((l) => deadLetters.push(l));
    for (const id of IDS) {
      const nf = await start();
      nf.bus.deadLetters$.subscribe((l) => deadLetters.push(l));
      received.set(id, []);
      nf.bus.registerAgent(id, { handler: (m) => void received.get(id)?.push(m.payload) });
    }
    await settle();
    sender.bus.registerAgent('sender');
    // An event travels on the agent's core subject, a command on its durable work queue.
    for (const messageType of ['event', 'command'] as const) {
      for (const id of IDS) sender.bus.sendMessage({ senderId: 'sender', recipientId: id, messageType, topic: 'job', payload: `${messageType} for ${id}` });
    }
    await settle();
    // Core and durable paths do not keep order between them.
    for (const id of IDS) expect([...(received.get(id) ?? [])].sort()).toEqual([`command for ${id}`, `event for ${id}`]);
    expect(deadLetters).toEqual([]);
  });
});
