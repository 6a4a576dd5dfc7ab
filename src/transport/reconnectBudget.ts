import { z } from 'zod';

/**
 * Default of `reconnectBufferBytes`: 8 MiB, the Go NATS client's `ReconnectBufSize`. The
 * JavaScript client in use (@nats-io/nats-core 3.3.1) has no such bound: while disconnected,
 * `sendCommand` appends every publish to its outbound buffer without limit, so a long outage
 * kept every heartbeat, presence, progress report and event in memory. The transports bound it
 * themselves with this budget.
 */
export const DEFAULT_RECONNECT_BUFFER_BYTES = 8 * 1024 * 1024;

/** The `reconnectBufferBytes` option, shared by the NATS and loopback transports (0: drop everything while disconnected). */
export const ReconnectBufferBytesSchema = z
  .number()
  .int()
  .nonnegative()
  .max(1024 * 1024 * 1024)
  .default(DEFAULT_RECONNECT_BUFFER_BYTES);

/**
 * What a transport may publish while its connection is down (`reconnecting`): frames up to
 * `limitBytes` (their body and subject bytes; protocol overhead is not counted) are kept for
 * the reconnect, later ones are dropped and counted in `lost` (a batch counts each of its
 * messages), and the first drop of each outage is reported once (`onFirstDrop`). Durable
 * frames count too: past the budget they are lost like core ones (at most once while the
 * link is down), which the sender's timeouts and retries then cover.
 * @internal
 */
export class ReconnectBudget {
  /** Messages dropped because the budget of their outage was spent. */
  lost = 0;
  private down = false;
  private used = 0;
  private reported = false;
  private waiters: (() => void)[] = [];

  constructor(
    readonly limitBytes: number,
    private readonly onFirstDrop: (detail: string) => void,
  ) {}

  /** True while the connection is down. */
  get isDown(): boolean {
    return this.down;
  }

  /** The connection dropped: a new outage starts with the whole budget. */
  linkDown(): void {
    if (this.down) return;
    this.down = true;
    this.used = 0;
    this.reported = false;
  }

  /** The connection is back (or the transport closes): publishes go out freely again. */
  linkUp(): void {
    this.down = false;
    this.used = 0;
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  /** Resolves once the connection is up (at once when it is). */
  whenUp(): Promise<void> {
    return this.down ? new Promise((resolve) => this.waiters.push(resolve)) : Promise.resolve();
  }

  /**
   * Whether a frame of `bytes` may be published now; false when it is dropped (counted as
   * `messages` lost, the outage's first drop reported). Always true while the link is up.
   */
  admit(bytes: number, messages = 1): boolean {
    if (!this.down) return true;
    if (this.used + bytes <= this.limitBytes) {
      this.used += bytes;
      return true;
    }
    this.lost += messages;
    if (!this.reported) {
      this.reported = true;
      this.onFirstDrop(
        `${this.limitBytes} bytes published while disconnected (reconnectBufferBytes): later frames are dropped until the reconnect, counted in getStats().lostWhileCutOff`,
      );
    }
    return false;
  }
}
