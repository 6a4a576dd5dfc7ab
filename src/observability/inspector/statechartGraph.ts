import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { toDirectedGraph, type DirectedGraphNode } from 'xstate/graph';
import { transitionLabel } from '../transitionLabel';
import type { StatechartEdge, StatechartGraph, StatechartNode } from './inspectorProtocol';
import { compositeKey } from '../../compositeKey';

export type { StatechartEdge, StatechartGraph, StatechartNode } from './inspectorProtocol';

/** The pseudo node drawn for transitions declared on a compound state (or the root, path ''). */
export function anyStatePath(compoundPath: string): string {
  return compoundPath === '' ? '*' : `${compoundPath}.*`;
}

function pathOf(stateNode: AnyStateNode): string {
  return stateNode.path.join('.');
}

/** Entering a compound state enters its initial child, down to an atomic state. */
function enteredLeaf(stateNode: AnyStateNode): AnyStateNode {
  let node = stateNode;
  for (let guard = 0; guard < 64; guard++) {
    if (node.type !== 'compound' && node.type !== 'parallel') return node;
    const initial = node.type === 'compound' ? (node.initial?.target?.[0] as AnyStateNode | undefined) : undefined;
    const next = initial ?? (Object.values(node.states)[0] as AnyStateNode | undefined);
    if (!next) return node;
    node = next;
  }
  return node;
}

interface Transition {
  readonly eventType: string;
  readonly target?: readonly AnyStateNode[];
}

/**
 * Reduces a machine to nodes and edges for the inspector page, from XState's own graph
 * of the machine (`toDirectedGraph` from `xstate/graph`) plus the eventless (`always`)
 * transitions it leaves out. Target-less transitions (actions only) are not drawn.
 *
 * @example
 * ```ts
 * const graph = describeStatechart(taskMachine);
 * graph.nodes.find((n) => n.path === 'queued'); // { kind: 'atomic', initial: false, ... }
 * ```
 */
export function describeStatechart(machine: AnyStateMachine): StatechartGraph {
  const nodes: StatechartNode[] = [];
  const edges: StatechartEdge[] = [];
  const seen = new Set<string>();
  const addEdge = (source: AnyStateNode, target: AnyStateNode, eventType: string) => {
    const sourceIsCluster = source.type === 'compound' || source.type === 'parallel';
    const from = sourceIsCluster ? anyStatePath(pathOf(source)) : pathOf(source);
    const to = pathOf(enteredLeaf(target));
    const label = transitionLabel(eventType);
    const key = compositeKey([from, to, label]);
    if (seen.has(key)) return;
    seen.add(key);
    edges.push({ source: from, target: to, label });
  };
  const visit = (graphNode: DirectedGraphNode, parent: string | null) => {
    const stateNode = graphNode.stateNode;
    const path = pathOf(stateNode);
    const isRoot = stateNode.path.length === 0;
    if (!isRoot) {
      const parentNode = stateNode.parent as AnyStateNode | undefined;
      const initial = parentNode?.type === 'compound' && parentNode.initial?.target?.[0] === stateNode;
      nodes.push({ path, key: stateNode.key, parent, kind: stateNode.type, initial });
    }
    const transitions: Transition[] = [...graphNode.edges.map((e) => e.transition as Transition), ...((stateNode.always ?? []) as Transition[])];
    const drawn = transitions.filter((t) => t.target && t.target.length > 0);
    if (drawn.length > 0 && (stateNode.type === 'compound' || stateNode.type === 'parallel')) {
      nodes.push({ path: anyStatePath(path), key: 'any state', parent: isRoot ? null : path, kind: 'any', initial: false });
    }
    for (const transition of drawn) {
      for (const target of transition.target ?? []) addEdge(stateNode, target, transition.eventType);
    }
    for (const child of graphNode.children) visit(child, isRoot ? null : path);
  };
  visit(toDirectedGraph(machine), null);
  return { machineId: machine.id, nodes, edges };
}

/**
 * The paths of the states a state value says are active (clusters included).
 *
 * @example
 * ```ts
 * activeStatePaths({ open: 'collectingVotes' }); // ['open', 'open.collectingVotes']
 * ```
 */
export function activeStatePaths(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix === '' ? value : `${prefix}.${value}`];
  if (typeof value !== 'object' || value === null) return [];
  const paths: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    paths.push(path, ...activeStatePaths(child, path));
  }
  return paths;
}
