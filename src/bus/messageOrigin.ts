import type { Message } from './message';

/**
 * The header a transport writes on every message it receives from the network: the
 * identity of the process that published it, read from the subject it came on (a
 * process publishes only under `nf.<ns>.from.<identity>.`, which NATS permissions can
 * enforce per user), never from the message itself. A transport overwrites whatever a
 * frame claims under this name. `~` marks a sender that published without an identity.
 */
export const ORIGIN_HEADER = 'nf-origin';

/** The {@link ORIGIN_HEADER} value of a sender without an identity. */
export const UNIDENTIFIED_ORIGIN = '~';

/**
 * Where a message came from: `local` (this process: no transport stamped it),
 * `unidentified` (over the network from a process without an identity) or the publishing
 * process's identity.
 *
 * @example
 * ```ts
 * const from = messageOrigin(message);
 * if (from.kind === 'remote') console.log(`published by NATS identity ${from.identity}`);
 * ```
 */
export type MessageOrigin = { kind: 'local' } | { kind: 'unidentified' } | { kind: 'remote'; identity: string };

const LOCAL: MessageOrigin = { kind: 'local' };
const UNIDENTIFIED: MessageOrigin = { kind: 'unidentified' };

/** Reads a message's {@link MessageOrigin} from the header its transport stamped. @example `messageOrigin(m).kind === 'local'` */
export function messageOrigin(message: Pick<Message, 'headers'>): MessageOrigin {
  const stamped = message.headers?.[ORIGIN_HEADER];
  if (stamped === undefined) return LOCAL;
  return stamped === UNIDENTIFIED_ORIGIN ? UNIDENTIFIED : { kind: 'remote', identity: stamped };
}
