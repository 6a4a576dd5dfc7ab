/** How the page writes an actor's state and load: no DOM here, so the server's tests can import it. */

/**
 * A state value as XState writes state ids: `online.busy` for `{ online: 'busy' }`,
 * parallel regions joined by `, `.
 */
export function valueText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value);
  const regions = Object.entries(value as Record<string, unknown>).map(([key, child]) => {
    const rest = valueText(child);
    return rest === '' ? key : `${key}.${rest}`;
  });
  return regions.length === 1 ? (regions[0] as string) : regions.join(', ');
}

/**
 * `load/capacity` of an actor whose context carries both as numbers (agent actors:
 * machines/agent.machine.ts), else null.
 */
export function loadText(context: unknown): string | null {
  if (typeof context !== 'object' || context === null) return null;
  const { load, capacity } = context as { load?: unknown; capacity?: unknown };
  if (typeof load !== 'number' || typeof capacity !== 'number') return null;
  return `${load.toLocaleString('en-US')}/${capacity.toLocaleString('en-US')}`;
}
