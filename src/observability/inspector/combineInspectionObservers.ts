import type { InspectionEvent, Observer } from 'xstate';

type InspectionObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/**
 * One XState `inspect` observer that feeds several: the NeuroFlux inspector's hub and,
 * say, Stately's inspector (`createWebSocketInspector().inspect` from
 * `@statelyai/inspect`). XState calls inspection observers inside the actors' own steps,
 * so an observer that throws is isolated: the others and the runtime go on.
 *
 * @example
 * ```ts
 * const stately = createWebSocketInspector({ url: 'ws://localhost:8080' });
 * const hub = createInspectionHub();
 * const nf = createNeuroFlux({ inspect: combineInspectionObservers(hub.observer, stately.inspect) });
 * ```
 */
export function combineInspectionObservers(...observers: readonly (InspectionObserver | undefined)[]): Observer<InspectionEvent> {
  const next = observers.flatMap((o) => {
    if (!o) return [];
    if (typeof o === 'function') return [o];
    return o.next ? [(event: InspectionEvent) => o.next?.(event)] : [];
  });
  return {
    next(event) {
      for (const observe of next) {
        try {
          observe(event);
        } catch {
          // An inspector's failure must not fail the actor being inspected.
        }
      }
    },
  };
}
