import type { Immutable } from 'immer';
import { newConnection } from './connection';
import { idRecord } from '../../idRecord';
import { newNeuron, type NeuronSettings } from './neuron';
import { deleteEntry, emptyShardedRecord, entriesOf, getEntry, setEntry } from './shardedRecord';
import { SWARM_DEFAULTS, type SwarmConnection, type SwarmMachineInput, type SwarmNeuron, type SwarmRules, type SwarmSnapshot, type SwarmState } from './swarmTypes';
import { deletePair, pairOf, pairsOf, setPair } from './pairIndex';

/**
 * The network's structure: its initial state, neurons and connections in and out.
 * Functions that change the state mutate the one they are given: call them on an immer
 * draft (the swarm machine does).
 */

/** Overrides without `undefined` values, so that a key given as undefined keeps its default. */
function definedRules(rules: Partial<SwarmRules> | undefined): Partial<SwarmRules> {
  if (!rules) return {};
  return Object.fromEntries(Object.entries(rules).filter(([, value]) => value !== undefined));
}

/**
 * The state of an empty network.
 *
 * @example
 * ```ts
 * const state = initialSwarmState({ networkId: 'trading_swarm', seed: 42 });
 * ```
 */
export function initialSwarmState(input: SwarmMachineInput): SwarmState {
  return {
    networkId: input.networkId,
    rules: { ...SWARM_DEFAULTS, ...definedRules(input.rules) },
    now: input.at ?? 0,
    rngState: input.seed >>> 0,
    neurons: emptyShardedRecord(),
    connections: emptyShardedRecord(),
    nextNeuronSeq: 0,
    nextConnectionSeq: 0,
    nextSignalId: 0,
    history: [],
    consensusHistory: [],
    globalKnowledge: idRecord(),
    patterns: [],
    lastPropagation: null,
    lastAdaptation: null,
    lastTransfers: [],
    lastShareCount: 0,
    lastCycleAt: null,
    timerStartedAt: null,
    counters: {
      totalSignals: 0,
      totalFirings: 0,
      tasksCompleted: 0,
      tasksFailed: 0,
      taskDurationMsTotal: 0,
      tasksWithDuration: 0,
      consensusOutcomes: 0,
      correctVotes: 0,
      wrongVotes: 0,
      cycles: 0,
      knowledgeTransfers: 0,
      connectionsPruned: 0,
      connectionsGrown: 0,
      failuresNotAttributed: 0,
    },
  };
}

/**
 * The neuron of an agent (a draft's when given a draft).
 *
 * @example
 * ```ts
 * neuronOf(network.getNetworkState(), 'risk_agent_1')?.performance;
 * ```
 */
export function neuronOf(state: SwarmState, agentId: string): SwarmNeuron | undefined;
export function neuronOf(state: SwarmSnapshot, agentId: string): Immutable<SwarmNeuron> | undefined;
export function neuronOf(state: SwarmSnapshot, agentId: string): Immutable<SwarmNeuron> | undefined {
  return getEntry(state.neurons, agentId);
}

/**
 * A connection by id (a draft's when given a draft).
 *
 * @example
 * ```ts
 * connectionOf(network.getNetworkState(), 'conn-0')?.strength;
 * ```
 */
export function connectionOf(state: SwarmState, connectionId: string): SwarmConnection | undefined;
export function connectionOf(state: SwarmSnapshot, connectionId: string): Immutable<SwarmConnection> | undefined;
export function connectionOf(state: SwarmSnapshot, connectionId: string): Immutable<SwarmConnection> | undefined {
  return getEntry(state.connections, connectionId);
}

/**
 * Every neuron (shard order; see {@link neuronsInOrder} for joining order).
 *
 * @example
 * ```ts
 * listNeurons(network.getNetworkState()).map((n) => n.agentId);
 * ```
 */
export function listNeurons(state: SwarmState): SwarmNeuron[];
export function listNeurons(state: SwarmSnapshot): Immutable<SwarmNeuron>[];
export function listNeurons(state: SwarmSnapshot): Immutable<SwarmNeuron>[] {
  return entriesOf(state.neurons);
}

/**
 * Every connection (shard order).
 *
 * @example
 * ```ts
 * listConnections(network.getNetworkState()).filter((c) => c.strength > 0.8);
 * ```
 */
export function listConnections(state: SwarmState): SwarmConnection[];
export function listConnections(state: SwarmSnapshot): Immutable<SwarmConnection>[];
export function listConnections(state: SwarmSnapshot): Immutable<SwarmConnection>[] {
  return entriesOf(state.connections);
}

/**
 * Adds an agent's neuron; an agent already present keeps its neuron unchanged.
 *
 * @example
 * ```ts
 * addNeuron(draft, 'trading_agent_1', { activationThreshold: 0.7 });
 * ```
 */
export function addNeuron(state: SwarmState, agentId: string, settings: NeuronSettings = {}): SwarmNeuron {
  const existing = neuronOf(state, agentId);
  if (existing) return existing;
  const neuron = newNeuron(agentId, state.nextNeuronSeq++, settings, state.rules);
  setEntry(state.neurons, agentId, neuron);
  return neuron;
}

/** Removes an agent's neuron and every connection from or to it. */
export function removeNeuron(state: SwarmState, agentId: string): boolean {
  const neuron = neuronOf(state, agentId);
  if (!neuron) return false;
  for (const [target] of pairsOf(neuron.outgoing)) disconnect(state, agentId, target);
  for (const [source] of pairsOf(neuron.incoming)) disconnect(state, source, agentId);
  deleteEntry(state.neurons, agentId);
  return true;
}

/**
 * The connection from `source` to `target`, if any (a draft's when given a draft).
 *
 * @example
 * ```ts
 * findConnection(network.getNetworkState(), 'analysis', 'trading')?.strength;
 * ```
 */
export function findConnection(state: SwarmState, source: string, target: string): SwarmConnection | undefined;
export function findConnection(state: SwarmSnapshot, source: string, target: string): Immutable<SwarmConnection> | undefined;
export function findConnection(state: SwarmSnapshot, source: string, target: string): Immutable<SwarmConnection> | undefined {
  const id = pairOf(neuronOf(state, source)?.outgoing, target);
  return id === undefined ? undefined : connectionOf(state, id);
}

/**
 * Connects `source` to `target` at `strength` (the rules' initial strength by default).
 * An existing connection is returned unchanged, as in the original; a self-connection
 * or an unknown agent yields `undefined` (the facade rejects those before).
 *
 * @example
 * ```ts
 * connect(draft, 'analysis_agent_1', 'trading_agent_1', 0.9, clock.now());
 * ```
 */
export function connect(state: SwarmState, source: string, target: string, strength: number | undefined, at: number): SwarmConnection | undefined {
  if (source === target) return undefined;
  const from = neuronOf(state, source);
  const to = neuronOf(state, target);
  if (!from || !to) return undefined;
  const existing = findConnection(state, source, target);
  if (existing) return existing;
  const connectionId = `conn-${state.nextConnectionSeq++}`;
  const initial = strength ?? state.rules.initialStrength;
  const connection = newConnection(connectionId, source, target, initial, at, state.rules);
  setEntry(state.connections, connectionId, connection);
  setPair(from.outgoing, target, connectionId);
  from.outgoingCount += 1;
  setPair(to.incoming, source, connectionId);
  return connection;
}

/** Removes the connection from `source` to `target`; false when there is none. */
export function disconnect(state: SwarmState, source: string, target: string): boolean {
  const from = neuronOf(state, source);
  const id = pairOf(from?.outgoing, target);
  if (!from || id === undefined) return false;
  deletePair(from.outgoing, target);
  from.outgoingCount -= 1;
  const to = neuronOf(state, target);
  if (to) deletePair(to.incoming, source);
  deleteEntry(state.connections, id);
  return true;
}

/**
 * Neurons in the order their agents joined (ties in the rules are broken by this order).
 *
 * @example
 * ```ts
 * neuronsInOrder(network.getNetworkState())[0]?.agentId; // the first agent added
 * ```
 */
export function neuronsInOrder(state: SwarmState): SwarmNeuron[];
export function neuronsInOrder(state: SwarmSnapshot): Immutable<SwarmNeuron>[];
export function neuronsInOrder(state: SwarmSnapshot): Immutable<SwarmNeuron>[] {
  return listNeurons(state).sort((a, b) => a.seq - b.seq);
}
