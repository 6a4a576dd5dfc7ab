import { __unsafe_getAllOwnEventDescriptors, type AnyMachineSnapshot, type EventObject } from 'xstate';

/** A path `xstate/graph` generated over a pure machine. */
export interface Path {
  readonly steps: readonly { readonly event: EventObject; readonly state: AnyMachineSnapshot }[];
}

/** Lets promise callbacks and macrotasks queued so far run. */
export const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The given events plus the state's own timers (`xstate/graph` offers only the events it is given). */
export function withTimers<E extends EventObject>(snapshot: AnyMachineSnapshot, events: readonly E[]): E[] {
  if (snapshot.status !== 'active') return [];
  const timers = (__unsafe_getAllOwnEventDescriptors(snapshot) as string[]).filter((t) => t.startsWith('xstate.after.'));
  return [...events, ...timers.map((type) => ({ type }) as E)];
}
