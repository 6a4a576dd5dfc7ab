import { randomUUID } from 'node:crypto';

// Ids are a per-process random prefix plus a counter: unique across processes like a
// UUID, at a fraction of the cost of one `randomUUID()` per message.
const idPrefix = randomUUID();
let idCounter = 0;

/** A new unique message id. @internal */
export function nextMessageId(): string {
  return `${idPrefix}-${(idCounter++).toString(36)}`;
}
