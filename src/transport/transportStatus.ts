import type { ConsumerNotification } from '@nats-io/jetstream';
import type { Status } from '@nats-io/transport-node';
import type { ConnectionStatusKind } from '../kernel/connectionStatus';

/**
 * What went wrong with a JetStream consumer, from one of its client's notifications, or
 * undefined for the informational ones (pulls, heartbeats, discards...). The client keeps
 * pulling after each of these; without a report, an agent whose consumer was deleted
 * would receive nothing and nobody would know.
 * @internal
 */
export function consumerProblem(notification: ConsumerNotification): string | undefined {
  switch (notification.type) {
    case 'heartbeats_missed':
      return `${notification.count} heartbeats missed`;
    case 'consumer_not_found':
      return `consumer ${notification.name} not found in stream ${notification.stream} (${notification.count} times in a row)`;
    case 'stream_not_found':
      return `stream ${notification.name} not found`;
    case 'consumer_deleted':
      return `consumer deleted (${notification.code} ${notification.description})`;
    case 'exceeded_limits':
      return `pull refused (${notification.code} ${notification.description})`;
    case 'no_responders':
      return `JetStream not available (${notification.code})`;
    default:
      return undefined;
  }
}

/**
 * The status event for a change of the NATS connection, or undefined for those that are
 * not one (pings, cluster updates, close: `close()` ends the stream).
 * @internal
 */
export function connectionStatusOf(status: Status): { kind: ConnectionStatusKind; error?: unknown } | undefined {
  switch (status.type) {
    case 'disconnect':
      return { kind: 'error', error: `disconnected from ${status.server}` };
    case 'reconnecting':
      return { kind: 'reconnecting' };
    case 'reconnect':
      return { kind: 'ready' };
    case 'error':
      return { kind: 'error', error: status.error };
    case 'staleConnection':
      return { kind: 'error', error: 'stale connection (pings unanswered)' };
    case 'slowConsumer':
      return { kind: 'error', error: `slow consumer on ${status.sub.getSubject()}` };
    case 'ldm':
      // A warning, not a lost link: the server closes the connection once its lame-duck time is
      // over (2 min by default) and the client reports `reconnecting` then. Reported as
      // `reconnecting`, the runtime's agents read offline over a connection that still works.
      return { kind: 'error', error: `server ${status.server} entering lame duck mode` };
    default:
      return undefined;
  }
}
