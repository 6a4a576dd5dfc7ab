import { appendBounded } from './boundedHistory';
import { activateConnection } from './connection';
import { idRecord } from '../../idRecord';
import { canFire, fireNeuron } from './neuron';
import { connectionOf, neuronOf } from './swarmState';
import type { FiringRecord, PropagationResult, SwarmState } from './swarmTypes';
import { pairsOf, type PairIndex } from './pairIndex';

/**
 * Propagates a signal breadth-first from `source`, mutating `state` (an immer draft).
 *
 * - The signal is added to the source's activation directly: the original needed a
 *   self-connection for the source to receive anything, so it never fired without one.
 * - Each wave, every neuron of the layer that can fire (threshold, refractory period)
 *   fires once; its output goes through each outgoing connection to a neuron not reached
 *   in an earlier wave. Each such connection is activated exactly once (the original
 *   activated it a second time on receipt, learning twice per hop), and a neuron reached
 *   by several firing neurons of one wave sums their outputs.
 * - At most `maxLayers` waves fire (the source's is the first); neurons reached by the
 *   last wave keep their activation for later signals.
 *
 * A firing neuron feeds its targets in the order they joined the network (so sums and
 * the order of `fired`, `reached` and `activatedConnections` do not depend on how pairs
 * are stored). Work is proportional to the neurons and connections the signal reaches. The touched
 * neurons' activations are appended to the activation history (bounded).
 *
 * @example
 * ```ts
 * const result = produce(state, (draft) => { propagate(draft, 'sentiment', 1, 3, clock.now()); }).lastPropagation;
 * ```
 */
export function propagate(state: SwarmState, source: string, signal: number, maxLayers: number, at: number): PropagationResult | undefined {
  const origin = neuronOf(state, source);
  if (!origin) return undefined;
  const signalId = state.nextSignalId++;
  origin.activation += signal;

  const felt = idRecord<number>();
  const fired: FiringRecord[] = [];
  const activated: string[] = [];
  const reached = new Set<string>([source]);
  let layer: string[] = [source];

  for (let depth = 0; depth < maxLayers && layer.length > 0; depth++) {
    const next: string[] = [];
    const inNext = new Set<string>();
    for (const agentId of layer) {
      const neuron = neuronOf(state, agentId)!;
      felt[agentId] = neuron.activation;
      if (!canFire(neuron, at)) continue;
      const output = fireNeuron(neuron, at);
      fired.push({ agentId, layer: depth, output });
      for (const [targetId, connectionId] of pairsInJoinOrder(state, neuron.outgoing)) {
        // Earlier waves (and this one) are not fed back: a cycle in the graph must not
        // re-excite a neuron within one propagation.
        if (reached.has(targetId) && !inNext.has(targetId)) continue;
        const connection = connectionOf(state, connectionId);
        const target = neuronOf(state, targetId);
        if (!connection || !target) continue;
        target.activation += activateConnection(connection, output, at);
        activated.push(connectionId);
        if (!inNext.has(targetId)) {
          inNext.add(targetId);
          reached.add(targetId);
          next.push(targetId);
        }
      }
    }
    layer = next;
  }
  for (const agentId of layer) felt[agentId] = neuronOf(state, agentId)!.activation;

  state.history = appendBounded(state.history, { signalId, source, at, activations: felt }, state.rules.historySize);
  state.counters.totalSignals += 1;
  state.counters.totalFirings += fired.length;

  const result: PropagationResult = {
    signalId,
    source,
    signal,
    fired,
    reached: [...reached],
    activatedConnections: activated,
    at,
  };
  state.lastPropagation = result;
  return result;
}

/** A neuron's pairs ordered by the other agent's joining order (as `neuronsInOrder` lists neurons). */
function pairsInJoinOrder(state: SwarmState, index: PairIndex): [string, string][] {
  const seq = (agentId: string): number => neuronOf(state, agentId)?.seq ?? Number.MAX_SAFE_INTEGER;
  return pairsOf(index).sort(([x], [y]) => seq(x) - seq(y));
}
