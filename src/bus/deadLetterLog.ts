import { Subject, type Observable } from 'rxjs';
import type { AnyDeadLetter } from './deadLetter';

/**
 * The bus's record of what it gave up: the `deadLetters$` stream and the last
 * `bufferSize` letters (`getDeadLetters()`). Counting by reason stays with the bus's
 * counters (`getStats()`).
 * @internal
 */
export class DeadLetterLog {
  /** Every dead letter, as it is recorded. */
  readonly deadLetters$: Observable<AnyDeadLetter>;
  private readonly subject = new Subject<AnyDeadLetter>();
  private readonly kept: AnyDeadLetter[] = [];

  constructor(private readonly bufferSize: number) {
    this.deadLetters$ = this.subject.asObservable();
  }

  /** The last letters recorded, oldest first (at most `bufferSize`): a copy, so that a caller's `push` or `length = 0` is not the log's. */
  get recent(): readonly AnyDeadLetter[] {
    return [...this.kept];
  }

  record(letter: AnyDeadLetter): void {
    if (this.bufferSize > 0) {
      if (this.kept.length >= this.bufferSize) this.kept.shift();
      this.kept.push(letter);
    }
    this.subject.next(letter);
  }

  /** Ends the stream (the bus stopped). */
  complete(): void {
    this.subject.complete();
  }
}
