import type { Subscription } from '@nats-io/transport-node';
import { subjectsOverlap, type Subjects } from './subjects';

/** The NATS subscription of one bus topic pattern, shared by every agent subscribed to it. @internal */
export interface PatternSubscription {
  sub: Subscription | undefined;
  /** Agents subscribed to the pattern. */
  count: number;
  readonly subject: string;
  /** Other patterns of this process that some subject matches too: NATS then delivers it on both. */
  overlaps: number;
}

/**
 * The topic patterns a transport listens on, one NATS subscription per pattern however many
 * agents share it, with the count of overlapping patterns (a frame arriving twice through two
 * of them is a duplicate, not a replay). `subscribe` opens a pattern's subscription once the
 * transport runs. @internal
 */
export class PatternSubscriptions {
  private readonly patterns = new Map<string, PatternSubscription>();

  constructor(
    private readonly subjects: Subjects,
    private readonly subscribe: (entry: PatternSubscription) => Subscription,
  ) {}

  /** An agent subscribed to `pattern`; `running`: subscribe on NATS now (else at `openAll`). */
  add(pattern: string, running: boolean): void {
    const existing = this.patterns.get(pattern);
    if (existing) {
      existing.count++;
      return;
    }
    const entry: PatternSubscription = { sub: undefined, count: 1, subject: this.subjects.topicPattern(pattern), overlaps: 0 };
    for (const other of this.patterns.values()) {
      if (!subjectsOverlap(entry.subject, other.subject)) continue;
      entry.overlaps++;
      other.overlaps++;
    }
    this.patterns.set(pattern, entry);
    if (running) entry.sub = this.subscribe(entry);
  }

  /** An agent unsubscribed from `pattern`: the NATS subscription ends with its last agent. */
  remove(pattern: string): void {
    const entry = this.patterns.get(pattern);
    if (!entry || --entry.count > 0) return;
    this.patterns.delete(pattern);
    for (const other of this.patterns.values()) if (subjectsOverlap(entry.subject, other.subject)) other.overlaps--;
    entry.sub?.unsubscribe();
  }

  /** Subscribes the patterns added before the transport ran. */
  openAll(): void {
    for (const entry of this.patterns.values()) entry.sub ??= this.subscribe(entry);
  }
}
