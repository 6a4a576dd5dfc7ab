/**
 * What a test opens is closed after it, last opened first, even when an assertion failed
 * half-way. A NATS connection left open reconnects forever once its server is killed in
 * `afterAll`, and then jest never exits: one failed assertion once kept CI waiting for
 * its whole time limit.
 */

/** Something with a `stop()` (a runtime) or a `close()` (a connection, a transport). */
export type Closable = { stop(): unknown } | { close(): unknown };

export interface Cleanup {
  /** Closes `resource` after the current test (its `stop()`, else its `close()`); returns it. */
  add<T extends Closable>(resource: T): T;
  /** Runs `fn` after the current test. */
  defer(fn: () => unknown): void;
}

/** A step that has not finished after this long is abandoned so the next one still runs. */
const STEP_TIMEOUT_MS = 10_000;

/** Registers an `afterEach` that runs what the test handed to the returned {@link Cleanup}. */
export function cleanupAfterEach(): Cleanup {
  let steps: (() => unknown)[] = [];
  afterEach(async () => {
    const run = steps.reverse();
    steps = [];
    for (const step of run) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, STEP_TIMEOUT_MS)));
      await Promise.race([
        Promise.resolve()
          .then(step)
          .catch(() => undefined),
        timeout,
      ]);
      clearTimeout(timer);
    }
  }, STEP_TIMEOUT_MS * 4);
  return {
    add(resource) {
      steps.push(() => ('stop' in resource ? resource.stop() : resource.close()));
      return resource;
    },
    defer(fn) {
      steps.push(fn);
    },
  };
}
