import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { toDirectedGraph, type DirectedGraphEdge, type DirectedGraphNode } from 'xstate/graph';
import { transitionLabel } from './transitionLabel';

function mermaidId(stateNode: AnyStateNode): string {
  return stateNode.id.replace(/[^A-Za-z0-9_]/g, '_');
}

/** Action-only transitions change no state; drawing them as self-loops hides the shape. */
function isTargetless(edge: DirectedGraphEdge): boolean {
  return !edge.transition.target || edge.transition.target.length === 0;
}

type TransitionLike = { guard?: unknown; target?: readonly AnyStateNode[] | undefined };

/** ` [guardName]` for a named guard, ` [guard]` for an inline one. */
function guardLabel(transition: TransitionLike): string {
  const guard = transition.guard;
  if (guard === undefined) return '';
  if (typeof guard === 'string') return ` [${guard}]`;
  if (typeof guard === 'object' && guard !== null && typeof (guard as { type?: unknown }).type === 'string') {
    return ` [${(guard as { type: string }).type}]`;
  }
  return ' [guard]';
}

/** Eventless (`always`) transitions, which XState's directed graph leaves out. */
function alwaysEdges(stateNode: AnyStateNode, indent: string): string[] {
  const lines: string[] = [];
  for (const transition of (stateNode.always ?? []) as TransitionLike[]) {
    for (const target of transition.target ?? []) {
      lines.push(`${indent}${mermaidId(stateNode)} --> ${mermaidId(target)}: always${guardLabel(transition)}`);
    }
  }
  return lines;
}

function render(node: DirectedGraphNode, lines: string[], indent: string): void {
  const stateNode = node.stateNode;
  const children = node.children;
  if (children.length > 0) {
    const initial = stateNode.initial?.target?.[0] as AnyStateNode | undefined;
    if (initial) lines.push(`${indent}[*] --> ${mermaidId(initial)}`);
    for (const child of children) {
      const id = mermaidId(child.stateNode);
      lines.push(`${indent}state "${child.stateNode.key}" as ${id}`);
      if (child.children.length > 0) {
        lines.push(`${indent}state ${id} {`);
        render(child, lines, `${indent}  `);
        lines.push(`${indent}}`);
      }
      if (child.stateNode.type === 'final') lines.push(`${indent}${id} --> [*]`);
    }
  }
  // A transition declared on a compound state applies in every (non-final) child that does
  // not handle the event itself: draw it once, from an "any state" node.
  const inherited = node.edges.filter((edge) => !isTargetless(edge));
  if (children.length > 0 && inherited.length > 0) {
    const any = `${mermaidId(stateNode)}__any`;
    lines.push(`${indent}state "(any state)" as ${any}`);
    for (const edge of inherited) {
      lines.push(`${indent}${any} --> ${mermaidId(edge.target)}: ${transitionLabel(edge.label.text)}${guardLabel(edge.transition)}`);
    }
  }
  for (const child of children) {
    for (const edge of child.edges) {
      if (isTargetless(edge)) continue;
      const label = edge.label.text;
      lines.push(`${indent}${mermaidId(edge.source)} --> ${mermaidId(edge.target)}: ${transitionLabel(label)}${guardLabel(edge.transition)}`);
    }
    lines.push(...alwaysEdges(child.stateNode, indent));
  }
}

/**
 * Draws a machine as a Mermaid `stateDiagram-v2`, from XState's own graph of the
 * machine (`toDirectedGraph`), so documentation diagrams never drift from the code.
 * Eventless (`always`) transitions are drawn too, guards are named in brackets, and
 * transitions that only run actions (no target) are left out.
 *
 * @example
 * ```ts
 * console.log(statechartToMermaid(agentMachine));
 * ```
 */
export function statechartToMermaid(machine: AnyStateMachine): string {
  const lines = ['stateDiagram-v2'];
  render(toDirectedGraph(machine), lines, '  ');
  return lines.join('\n');
}
