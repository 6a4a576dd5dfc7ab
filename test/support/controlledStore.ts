import { MemorySnapshotStore, type SnapshotStore, type StoredSnapshot } from '../../src/store';

/** A memory store whose writes can be held back or made to fail, and which records what was written. */
export class ControlledStore implements SnapshotStore {
  readonly inner = new MemorySnapshotStore();
  readonly written: unknown[] = [];

  /** The states written, out of their writer envelopes. */
  get writtenStates(): unknown[] {
    return this.written.map((value) => (value as { state: unknown }).state);
  }
  failures = 0;
  private held: (() => void)[] | undefined;

  hold(): void {
    this.held = [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const go of held) go();
  }

  get waiting(): number {
    return this.held?.length ?? 0;
  }

  load<T = unknown>(key: string): Promise<StoredSnapshot<T> | undefined> {
    return this.inner.load<T>(key);
  }

  /**
   * Faults for writes to matching keys, each used once: `landed` writes the value and then
   * reports an error (the reply lost), otherwise nothing is written.
   */
  readonly faults: { match: (key: string) => boolean; landed: boolean }[] = [];

  async save(key: string, value: unknown, expectedRevision?: number): Promise<number> {
    if (this.held) await new Promise<void>((resolve) => this.held?.push(resolve));
    if (this.failures > 0) {
      this.failures--;
      throw new Error('disk full');
    }
    const fault = this.faults.findIndex((f) => f.match(key));
    const landed = fault >= 0 && this.faults.splice(fault, 1)[0]?.landed;
    if (fault >= 0 && !landed) throw new Error(`cannot write ${key}`);
    const revision = await this.inner.save(key, value, expectedRevision);
    this.written.push(value);
    if (landed) throw new Error(`no reply writing ${key}`);
    return revision;
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  keys(): Promise<string[]> {
    return this.inner.keys();
  }

  async close(): Promise<void> {}
}
