/**
 * Whether an agent may take a task: it has every capability the task requires. The
 * orchestrator's pools and the verifier's capacity model both ask this.
 * @internal
 */
export function hasAllCapabilities(capabilities: ReadonlySet<string>, required: readonly string[]): boolean {
  for (const capability of required) if (!capabilities.has(capability)) return false;
  return true;
}
