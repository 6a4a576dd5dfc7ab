import { Subject, type Observable } from 'rxjs';
import { describeError } from '../describeError';

/** What happened to a connection to a server (Redis, NATS). */
export type ConnectionStatusKind = 'error' | 'reconnecting' | 'ready';

/**
 * One change of a connection, as a client (a {@link RedisCache}, a `NatsTransport`)
 * reports it on `status$`.
 */
export interface ConnectionStatusEvent {
  readonly kind: ConnectionStatusKind;
  /**
   * What it concerns: `redis`, `connection` (the NATS connection), `consumer <name>` (a
   * JetStream consumer), `listen <agentId>` (setting up an agent's consumers)...
   */
  readonly source: string;
  /** The error's text (kind `error`; `reconnecting` when the client says why). */
  readonly error?: string;
  /** Wall-clock milliseconds (`Date.now()`). */
  readonly at: number;
}

/** Counters of the status events a client has reported since it was created. */
export interface ConnectionStatusStats {
  readonly errors: number;
  readonly reconnects: number;
  /** Times the connection became ready (the first connect included). */
  readonly readies: number;
  /** The last error event, if any. */
  readonly lastError: ConnectionStatusEvent | undefined;
}

/**
 * The status stream and counters of one client. Errors that used to be swallowed (or that
 * ioredis printed as "Unhandled error event") are reported here, so a caller can log,
 * alert or count them.
 * @internal
 */
export class ConnectionStatus {
  readonly status$: Observable<ConnectionStatusEvent>;
  private readonly subject = new Subject<ConnectionStatusEvent>();
  private counts = { errors: 0, reconnects: 0, readies: 0 };
  private lastError: ConnectionStatusEvent | undefined;

  constructor() {
    this.status$ = this.subject.asObservable();
  }

  /** Counts and emits one event; `error` may be any thrown value. */
  report(kind: ConnectionStatusKind, source: string, error?: unknown): void {
    const event: ConnectionStatusEvent = { kind, source, ...(error !== undefined && { error: describeError(error) }), at: Date.now() };
    if (kind === 'error') {
      this.counts.errors++;
      this.lastError = event;
    } else if (kind === 'reconnecting') this.counts.reconnects++;
    else this.counts.readies++;
    this.subject.next(event);
  }

  stats(): ConnectionStatusStats {
    return { ...this.counts, lastError: this.lastError };
  }

  /** Ends `status$` (the client is closed). */
  complete(): void {
    this.subject.complete();
  }
}
