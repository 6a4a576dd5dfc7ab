import type { DirectedGraph } from 'graphology';
import { listConnections, listNeurons, neuronOf } from './model/swarmState';
import type { SwarmSnapshot } from './model/swarmTypes';
import { loadOptional } from '../optionalDependency';

/**
 * graphology and the metrics used here (~20 modules), loaded when a graph is first built,
 * not by `require('neuroflux')` (issue #16: the package loads at most 150 modules).
 */
function graphology() {
  /* eslint-disable @typescript-eslint/no-require-imports */
  return loadOptional('graphology', 'swarm topology statistics', () => ({
    DirectedGraph: (require('graphology') as typeof import('graphology')).DirectedGraph,
    betweennessCentrality: require('graphology-metrics/centrality/betweenness') as (typeof import('graphology-metrics/centrality/betweenness'))['default'],
    degreeCentrality: (require('graphology-metrics/centrality/degree') as typeof import('graphology-metrics/centrality/degree')).degreeCentrality,
    density: require('graphology-metrics/graph/density') as typeof import('graphology-metrics/graph/density'),
    singleSourceLength: (require('graphology-shortest-path/unweighted') as typeof import('graphology-shortest-path/unweighted')).singleSourceLength,
  }));
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/** Statistics and topology metrics of the network. */
export interface SwarmStats {
  readonly neuronCount: number;
  readonly connectionCount: number;
  /** Propagations so far. */
  readonly totalSignals: number;
  /** Connections at or above the pruning threshold (0.1): those adaptation keeps. */
  readonly activeConnections: number;
  /** Mean current activation of the neurons. */
  readonly averageActivation: number;
  readonly averageStrength: number;
  /**
   * The spec's (and original's) `2E / (N(N − 1))`. Connections are directed, so this
   * reaches 2 when every pair is linked both ways; see `directedDensity` for [0, 1].
   */
  readonly networkDensity: number;
  /** `E / (N(N − 1))`, in [0, 1]. */
  readonly directedDensity: number;
  /** Mean local clustering coefficient, connections taken as undirected. */
  readonly clusteringCoefficient: number;
  /** Degree centrality (in + out, normalised by N − 1) by agent. */
  readonly degreeCentrality: Readonly<Record<string, number>>;
  /** Normalised betweenness centrality (directed, unweighted) by agent. */
  readonly betweennessCentrality: Readonly<Record<string, number>>;
  /** Mean hop count over ordered pairs with a directed path (0 when there is none). */
  readonly averagePathLength: number;
}

/**
 * The network as a graphology directed graph: one node per agent (attribute
 * `performance`), one edge per connection (key `connectionId`, attribute `strength`).
 *
 * @example
 * ```ts
 * const graph = toGraph(network.getNetworkState());
 * graph.outNeighbors('analysis');
 * ```
 */
export function toGraph(state: SwarmSnapshot): DirectedGraph {
  return buildGraph(state, (agentId) => agentId);
}

/**
 * The graph with node keys from `keyOf`. Graphology indexes neighbours in plain objects:
 * a node keyed `constructor` or `__proto__` breaks it (an edge "already exists", or is
 * lost), so the statistics use keys of their own and map the results back to agent ids.
 */
function buildGraph(state: SwarmSnapshot, keyOf: (agentId: string) => string): DirectedGraph {
  const graph = new (graphology().DirectedGraph)();
  for (const neuron of listNeurons(state)) graph.addNode(keyOf(neuron.agentId), { performance: neuron.performance });
  for (const c of listConnections(state)) {
    graph.addDirectedEdgeWithKey(c.connectionId, keyOf(c.source), keyOf(c.target), { strength: c.strength });
  }
  return graph;
}

/** Mean local clustering coefficient of the undirected projection (0 for nodes of degree < 2). */
function averageClustering(graph: DirectedGraph): number {
  if (graph.order === 0) return 0;
  let total = 0;
  graph.forEachNode((node) => {
    const neighbours = graph.neighbors(node).filter((n) => n !== node);
    const k = neighbours.length;
    if (k < 2) return;
    let links = 0;
    for (let i = 0; i < k; i++) {
      for (let j = i + 1; j < k; j++) if (graph.areNeighbors(neighbours[i]!, neighbours[j]!)) links += 1;
    }
    total += (2 * links) / (k * (k - 1));
  });
  return total / graph.order;
}

function averagePathLength(graph: DirectedGraph): number {
  let total = 0;
  let pairs = 0;
  graph.forEachNode((node) => {
    const lengths = graphology().singleSourceLength(graph, node);
    for (const [target, length] of Object.entries(lengths)) {
      if (target === node) continue;
      total += length;
      pairs += 1;
    }
  });
  return pairs === 0 ? 0 : total / pairs;
}

/**
 * Computes the network's statistics and topology metrics. Cost grows with the whole
 * network (betweenness is O(N·E)): call it for reports, not per event.
 *
 * @example
 * ```ts
 * const { networkDensity, clusteringCoefficient } = computeSwarmStats(network.getNetworkState());
 * ```
 */
export function computeSwarmStats(state: SwarmSnapshot): SwarmStats {
  const neurons = listNeurons(state);
  const keyOf = (agentId: string) => `#${neuronOf(state, agentId)?.seq}`;
  const agentOf = new Map(neurons.map((x) => [keyOf(x.agentId), x.agentId]));
  const byAgent = (byKey: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(byKey).map(([key, value]) => [agentOf.get(key) ?? key, value]));
  const graph = buildGraph(state, keyOf);
  const connections = listConnections(state);
  const n = graph.order;
  const e = graph.size;
  const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
  const zeros = (): Record<string, number> => Object.fromEntries(neurons.map((x) => [x.agentId, 0]));
  const { betweennessCentrality, degreeCentrality, density } = graphology();
  return {
    neuronCount: n,
    connectionCount: e,
    totalSignals: state.counters.totalSignals,
    activeConnections: connections.filter((c) => c.strength >= state.rules.pruneThreshold).length,
    averageActivation: n === 0 ? 0 : sum(neurons.map((x) => x.activation)) / n,
    averageStrength: e === 0 ? 0 : sum(connections.map((c) => c.strength)) / e,
    networkDensity: n > 1 ? density.undirectedDensity(n, e) : 0,
    directedDensity: n > 1 ? density.directedDensity(n, e) : 0,
    clusteringCoefficient: averageClustering(graph),
    degreeCentrality: n > 1 ? byAgent(degreeCentrality(graph)) : zeros(),
    betweennessCentrality: n > 2 ? byAgent(betweennessCentrality(graph)) : zeros(),
    averagePathLength: averagePathLength(graph),
  };
}
