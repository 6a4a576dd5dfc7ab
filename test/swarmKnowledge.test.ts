import { SimulatedClock, createActor } from 'xstate';
import { runtimeMachine } from '../machines/runtime.machine';
import { CommunicationBus } from '../src/bus/communicationBus';
import { NotRunningError } from '../src/errors';
import type { Message } from '../src/bus/message';
import { KNOWLEDGE_TRANSFER_TOPIC, NeuralSwarmNetwork, type KnowledgeTransferPayload } from '../src/swarm';

function teach(swarm: NeuralSwarmNetwork, agentId: string, taskType: string, successes: number, failures = 0) {
  for (let i = 0; i < successes; i++) {
    swarm.recordTaskCompleted({ taskId: `${agentId}-s${i}`, agentId, taskType, producerAgentIds: [] });
  }
  for (let i = 0; i < failures; i++) {
    swarm.recordTaskFailed({ taskId: `${agentId}-f${i}`, agentId, taskType, producerAgentIds: [] });
  }
}

describe('knowledge sharing', () => {
  test('shareKnowledge copies to connection targets and strengthens the links used', () => {
    const swarm = new NeuralSwarmNetwork({ networkId: 'k', clock: new SimulatedClock() });
    for (const id of ['analysis', 'trading', 'risk', 'idle']) swarm.addAgent(id);
    swarm.createConnection('analysis', 'trading', { initialStrength: 0.5 });
    swarm.createConnection('analysis', 'risk', { initialStrength: 0.95 });
    const trend = { direction: 'up' };
    expect(swarm.shareKnowledge('analysis', 'btc_trend', trend)).toBe(2);
    trend.direction = 'down'; // the network keeps its own copy
    expect(swarm.getNeuron('trading')!.knowledgeBase.btc_trend).toEqual({ direction: 'up' });
    expect(swarm.getNeuron('idle')!.knowledgeBase).toEqual({});
    expect(swarm.getConnection('analysis', 'trading')!.strength).toBeCloseTo(0.6);
    expect(swarm.getConnection('analysis', 'risk')!.strength).toBe(1);
    expect(swarm.getNetworkState().globalKnowledge).toEqual({ btc_trend: { direction: 'up' } });
    expect(swarm.shareKnowledge('analysis', 'note', 1, ['idle', 'ghost'])).toBe(1);
  });

  test('the top 2 performers send knowledge_transfer notifications over a real bus', async () => {
    const clock = new SimulatedClock();
    const bus = new CommunicationBus({ clock });
    const received: Message[] = [];
    for (const id of ['teacher_a', 'teacher_b', 'student_1', 'student_2']) {
      bus.registerAgent(id, { handler: (message) => void received.push(message) });
    }
    const seen: Message[] = [];
    bus.messages$.subscribe((m) => seen.push(m));
    await bus.start();

    const swarm = new NeuralSwarmNetwork({ networkId: 'school', bus });
    teach(swarm, 'teacher_a', 'analysis', 12); // 12 uses, all successful: teachable
    teach(swarm, 'teacher_b', 'risk_check', 11);
    teach(swarm, 'student_1', 'analysis', 3, 2);
    teach(swarm, 'student_2', 'trade', 1, 3);
    const link = swarm.createConnection('teacher_a', 'student_1', { initialStrength: 0.5 });

    const deliveries = swarm.facilitateKnowledgeSharing();
    expect(deliveries.map((d) => [d.transfer.teacherId, d.transfer.studentId])).toEqual([
      ['teacher_a', 'student_1'],
      ['teacher_a', 'student_2'],
      ['teacher_b', 'student_1'],
      ['teacher_b', 'student_2'],
    ]);
    expect(deliveries.every((d) => typeof d.messageId === 'string' && d.error === undefined)).toBe(true);
    expect(swarm.getConnectionStrength(link.connectionId)).toBeCloseTo(0.6);

    const transfers = seen.filter((m) => m.topic === KNOWLEDGE_TRANSFER_TOPIC);
    expect(transfers).toHaveLength(4);
    expect(transfers[0]).toMatchObject({
      senderId: 'teacher_a',
      recipientId: 'student_1',
      messageType: 'notification',
      priority: 'medium',
    });
    const payload = transfers[0]!.payload as KnowledgeTransferPayload;
    expect(payload).toEqual({
      teacherId: 'teacher_a',
      transferType: 'pattern_sharing',
      knowledge: { decisionPatterns: [{ key: 'task:analysis', successRate: 1, usageCount: 12 }] },
    });

    await bus.whenIdle();
    expect(received.filter((m) => m.recipientId === 'student_1').map((m) => m.senderId)).toEqual(['teacher_a', 'teacher_b']);
    expect(received.filter((m) => m.recipientId?.startsWith('teacher'))).toEqual([]);
    expect(swarm.getPerformanceMetrics().knowledgeTransfers).toBe(4);
    await swarm.stop();
    await bus.stop();
  });

  test('a teacher with nothing teachable (≤ 10 uses or ≤ 0.8 success) sends nothing', () => {
    const swarm = new NeuralSwarmNetwork({ networkId: 'quiet', clock: new SimulatedClock() });
    teach(swarm, 'almost', 'analysis', 10); // 10 uses: not more than 10
    teach(swarm, 'shaky', 'risk', 16, 4); // success 0.8: not above
    teach(swarm, 'student', 'trade', 0, 1);
    expect(swarm.facilitateKnowledgeSharing()).toEqual([]);
  });

  test('without a bus the transfers are planned but not sent; a stopped bus reports the error', async () => {
    const alone = new NeuralSwarmNetwork({ networkId: 'alone', clock: new SimulatedClock() });
    // As in the guide, the top 2 teach the rest: a third agent is needed for a student.
    teach(alone, 'teacher', 'analysis', 11);
    teach(alone, 'second', 'analysis', 1);
    teach(alone, 'student', 'analysis', 0, 1);
    expect(alone.facilitateKnowledgeSharing()).toMatchObject([{ transfer: { teacherId: 'teacher', studentId: 'student' }, messageId: null }]);

    const clock = new SimulatedClock();
    // A root of its own: stopping the bus leaves the runtime (and the swarm actor) running.
    const root = createActor(runtimeMachine, { clock, input: {} }).start();
    const bus = new CommunicationBus({ clock, root });
    const swarm = new NeuralSwarmNetwork({ networkId: 'late', bus });
    teach(swarm, 'teacher', 'analysis', 11);
    teach(swarm, 'second', 'analysis', 1);
    teach(swarm, 'student', 'analysis', 0, 1);
    await bus.stop();
    const [delivery] = swarm.facilitateKnowledgeSharing();
    expect(delivery).toMatchObject({ messageId: null, error: expect.stringContaining('not running') });
    root.stop();
    expect(() => swarm.facilitateKnowledgeSharing()).toThrow(NotRunningError);
  });

  test('a transfer requested straight on the actor is delivered once the step is over', async () => {
    const clock = new SimulatedClock();
    const bus = new CommunicationBus({ clock });
    const seen: Message[] = [];
    bus.messages$.subscribe((m) => seen.push(m));
    const swarm = new NeuralSwarmNetwork({ networkId: 'direct', bus });
    teach(swarm, 'teacher', 'analysis', 11);
    teach(swarm, 'second', 'analysis', 1);
    teach(swarm, 'student', 'analysis', 0, 1);
    swarm.actor.send({ type: 'KNOWLEDGE_SHARING_REQUESTED', at: clock.now() });
    expect(seen).toHaveLength(0);
    await Promise.resolve();
    expect(seen.map((m) => [m.topic, m.senderId, m.recipientId])).toEqual([[KNOWLEDGE_TRANSFER_TOPIC, 'teacher', 'student']]);
    await bus.stop();
  });
});
