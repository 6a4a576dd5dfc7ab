/**
 * How a transition's event is named in drawings of a statechart (docs and inspector):
 * XState's internal event types (`xstate.after.<delay>.<state id>`, `xstate.done.actor.<id>`,
 * …) become short readable labels.
 * @internal
 */
export function transitionLabel(eventType: string): string {
  const after = /^xstate\.after\.([^.]+)\./.exec(eventType);
  if (after) return `after ${after[1]}`;
  if (eventType.startsWith('xstate.done.actor.')) return `done ${eventType.slice('xstate.done.actor.'.length)}`;
  if (eventType.startsWith('xstate.error.actor.')) return `error ${eventType.slice('xstate.error.actor.'.length)}`;
  if (eventType.startsWith('xstate.done.state.')) return 'done';
  if (eventType === '') return 'always';
  return eventType;
}
