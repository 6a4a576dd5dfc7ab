import type { Immutable } from 'immer';
import { clampStrength } from './connection';
import { connectionOf, neuronOf } from './swarmState';
import { PatternType, type ConsensusRecord, type EmergentPattern, type PatternPair, type SwarmSnapshot, type SwarmState } from './swarmTypes';
import { pairOf } from './pairIndex';
import { compositeKey } from '../../compositeKey';

/**
 * Each agent's activation over the recent propagations, oldest first: one value per
 * propagation of the history, 0 when the signal did not reach the agent. Only agents
 * the history touched and that are still in the network appear.
 *
 * @example
 * ```ts
 * activationPatterns(network.getNetworkState()); // { analysis: [0.8, 0, 0.4], trading: [0.5, 0, 0.2] }
 * ```
 */
export function activationPatterns(state: SwarmSnapshot): Record<string, number[]> {
  return Object.fromEntries(activationSeries(state));
}

/** Each agent's activation series (a Map: agent ids are keys like any other, `__proto__` too). */
function activationSeries(state: SwarmSnapshot): Map<string, number[]> {
  const series = new Map<string, number[]>();
  const length = state.history.length;
  state.history.forEach((record, index) => {
    for (const [agentId, value] of Object.entries(record.activations)) {
      if (!neuronOf(state, agentId)) continue;
      let values = series.get(agentId);
      if (!values) series.set(agentId, (values = new Array<number>(length).fill(0)));
      values[index] = value;
    }
  });
  return series;
}

/**
 * Pearson correlation of two series of equal length; 0 when either is constant (no
 * evidence either way) or the series are shorter than 2.
 *
 * @example
 * ```ts
 * pearsonCorrelation([1, 2, 3], [2, 4, 7]); // ≈ 0.99
 * ```
 */
export function pearsonCorrelation(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  if (n < 2) return 0;
  let meanA = 0;
  let meanB = 0;
  for (let i = 0; i < n; i++) {
    meanA += a[i]!;
    meanB += b[i]!;
  }
  meanA /= n;
  meanB /= n;
  let cov = 0;
  let varA = 0;
  let varB = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - meanA;
    const db = b[i]! - meanB;
    cov += da * db;
    varA += da * da;
    varB += db * db;
  }
  if (varA < 1e-12 || varB < 1e-12) return 0;
  return cov / Math.sqrt(varA * varB);
}

type ScoredPair = readonly [string, string, number];

/** Groups agents linked by qualifying pairs into clusters (connected components). */
function clustersOf(state: SwarmSnapshot, pairs: readonly ScoredPair[]): { agents: string[]; pairs: ScoredPair[] }[] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root)!;
    parent.set(x, root);
    return root;
  };
  for (const [a, b] of pairs) {
    if (!parent.has(a)) parent.set(a, a);
    if (!parent.has(b)) parent.set(b, b);
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(rb, ra);
  }
  const byRoot = new Map<string, { agents: string[]; pairs: ScoredPair[] }>();
  for (const agentId of parent.keys()) {
    const root = find(agentId);
    let cluster = byRoot.get(root);
    if (!cluster) byRoot.set(root, (cluster = { agents: [], pairs: [] }));
    cluster.agents.push(agentId);
  }
  for (const pair of pairs) byRoot.get(find(pair[0]))!.pairs.push(pair);
  const seq = (id: string): number => neuronOf(state, id)?.seq ?? Number.MAX_SAFE_INTEGER;
  const clusters = [...byRoot.values()];
  for (const cluster of clusters) cluster.agents.sort((x, y) => seq(x) - seq(y));
  return clusters.sort((x, y) => seq(x.agents[0]!) - seq(y.agents[0]!));
}

function connectionsAmong(state: SwarmSnapshot, agents: readonly string[]): string[] {
  const ids: string[] = [];
  for (const source of agents) {
    const outgoing = neuronOf(state, source)?.outgoing;
    if (!outgoing) continue;
    for (const target of agents) {
      const id = pairOf(outgoing, target);
      if (id !== undefined) ids.push(id);
    }
  }
  return ids;
}

function toPatterns(state: SwarmSnapshot, type: PatternType, pairs: readonly ScoredPair[], at: number, firstIndex: number): EmergentPattern[] {
  return clustersOf(state, pairs).map((cluster, i) => {
    const scores: PatternPair[] = [];
    let total = 0;
    for (const [a, b, score] of cluster.pairs) {
      scores.push({ agents: [a, b], score });
      total += score;
    }
    return {
      patternId: `${type}:${at}:${firstIndex + i}`,
      type,
      involvedAgents: cluster.agents,
      involvedConnections: connectionsAmong(state, cluster.agents),
      confidence: total / cluster.pairs.length,
      pairs: scores,
      detectedAt: at,
    };
  });
}

/** Agents ordered by when they joined: pair keys and pattern order stay deterministic. */
function bySeq(state: SwarmSnapshot, ids: Iterable<string>): string[] {
  return [...ids].sort((a, b) => neuronOf(state, a)!.seq - neuronOf(state, b)!.seq);
}

/** Pairs of agents whose activation histories correlate above `correlationThreshold` (0.7). */
function correlatedPairs(state: SwarmSnapshot): ScoredPair[] {
  if (state.history.length < state.rules.minCorrelationSamples) return [];
  const series = activationSeries(state);
  const agents = bySeq(state, series.keys());
  const pairs: ScoredPair[] = [];
  for (let i = 0; i < agents.length; i++) {
    for (let j = i + 1; j < agents.length; j++) {
      const a = agents[i]!;
      const b = agents[j]!;
      const correlation = pearsonCorrelation(series.get(a)!, series.get(b)!);
      if (correlation > state.rules.correlationThreshold) pairs.push([a, b, correlation]);
    }
  }
  return pairs;
}

/**
 * Pairs of voters that shared at least `minSharedConsensus` outcomes and, in more than
 * `correlationThreshold` of them, took the same decision and were both right.
 */
function jointlyRightPairs(state: SwarmSnapshot, records: readonly Immutable<ConsensusRecord>[]): ScoredPair[] {
  const stats = new Map<string, { a: string; b: string; shared: number; jointlyRight: number }>();
  for (const record of records) {
    const voters = record.voters.filter((v) => neuronOf(state, v.agentId));
    for (let i = 0; i < voters.length; i++) {
      for (let j = i + 1; j < voters.length; j++) {
        let vx = voters[i]!;
        let vy = voters[j]!;
        if (neuronOf(state, vx.agentId)!.seq > neuronOf(state, vy.agentId)!.seq) [vx, vy] = [vy, vx];
        const key = compositeKey([vx.agentId, vy.agentId]);
        let entry = stats.get(key);
        if (!entry) stats.set(key, (entry = { a: vx.agentId, b: vy.agentId, shared: 0, jointlyRight: 0 }));
        entry.shared += 1;
        if (vx.correct && vy.correct && vx.decision !== null && vx.decision === vy.decision) entry.jointlyRight += 1;
      }
    }
  }
  const pairs: ScoredPair[] = [];
  for (const entry of stats.values()) {
    if (entry.shared < state.rules.minSharedConsensus) continue;
    const score = entry.jointlyRight / entry.shared;
    if (score > state.rules.correlationThreshold) pairs.push([entry.a, entry.b, score]);
  }
  return pairs;
}

/**
 * Finds emergent patterns in the recent history (no state change):
 * - `correlation_cluster`: agents linked by pairwise activation correlation > 0.7
 *   (clusters are connected components of those pairs; the guide lumped every
 *   correlated agent into one pattern);
 * - `successful_consensus`: agents that keep voting together and being right;
 * - `risk_avoidance`: the same, on `risk_conflict` outcomes.
 * A pattern's confidence is the mean score of its qualifying pairs.
 *
 * @example
 * ```ts
 * const patterns = detectPatterns(network.getNetworkState(), clock.now());
 * ```
 */
export function detectPatterns(state: SwarmSnapshot, at: number): EmergentPattern[] {
  const risk = state.consensusHistory.filter((r) => r.conflictType === 'risk_conflict');
  const other = state.consensusHistory.filter((r) => r.conflictType !== 'risk_conflict');
  const patterns = toPatterns(state, PatternType.CORRELATION_CLUSTER, correlatedPairs(state), at, 0);
  patterns.push(...toPatterns(state, PatternType.SUCCESSFUL_CONSENSUS, jointlyRightPairs(state, other), at, patterns.length));
  patterns.push(...toPatterns(state, PatternType.RISK_AVOIDANCE, jointlyRightPairs(state, risk), at, patterns.length));
  return patterns;
}

/**
 * Amplifies the patterns above `amplifyConfidence` (0.8), mutating `state` (an immer
 * draft): +0.01 strength on their connections; activation thresholds −0.05 (at least
 * 0.1) for `successful_consensus` agents, +0.05 (at most 0.9) for `risk_avoidance` ones.
 * Returns the amplified patterns.
 *
 * @example
 * ```ts
 * produce(state, (draft) => { amplifyPatterns(draft, detectPatterns(draft, now)); });
 * ```
 */
export function amplifyPatterns(state: SwarmState, patterns: readonly EmergentPattern[]): EmergentPattern[] {
  const { rules } = state;
  const amplified = patterns.filter((p) => p.confidence > rules.amplifyConfidence);
  for (const pattern of amplified) {
    for (const connectionId of pattern.involvedConnections) {
      const connection = connectionOf(state, connectionId);
      if (connection) connection.strength = clampStrength(connection.strength + rules.amplifyStrengthStep);
    }
    for (const agentId of pattern.involvedAgents) {
      const neuron = neuronOf(state, agentId);
      if (!neuron) continue;
      const threshold = neuron.activationThreshold;
      if (pattern.type === PatternType.SUCCESSFUL_CONSENSUS && threshold > rules.minThreshold) {
        neuron.activationThreshold = Math.max(rules.minThreshold, threshold - rules.thresholdStep);
      } else if (pattern.type === PatternType.RISK_AVOIDANCE && threshold < rules.maxThreshold) {
        neuron.activationThreshold = Math.min(rules.maxThreshold, threshold + rules.thresholdStep);
      }
    }
  }
  return amplified;
}
