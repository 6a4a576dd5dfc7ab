/**
 * Mulberry32: a 32-bit generator whose whole state is one number. The swarm actor's own
 * draws (topology adaptation) take their state from its context, so they are reproducible
 * from the seed and a persisted snapshot resumes that sequence. The `swarm` balancer's
 * routing draws are another stream (`randomSource`), seeded once when the balancer is made
 * and kept in its closure: reproducible from a fresh start with the same seed and the same
 * order of choices, but not part of a snapshot (a restored runtime starts it afresh).
 */

/** One draw: a value in [0, 1) and the generator's next state. */
export interface RandomDraw {
  readonly value: number;
  readonly state: number;
}

/**
 * Draws the next number of the sequence that `state` is at.
 *
 * @example
 * ```ts
 * let state = 42;
 * const draw = nextRandom(state); // draw.value in [0, 1)
 * state = draw.state;
 * ```
 */
export function nextRandom(state: number): RandomDraw {
  const next = (state + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { value: ((t ^ (t >>> 14)) >>> 0) / 4294967296, state: next };
}

/**
 * A uint32 seed from a text (FNV-1a), so a network without an explicit seed is still
 * reproducible and two networks with different ids draw different sequences.
 *
 * @example
 * ```ts
 * const seed = seedFromString('trading_swarm');
 * ```
 */
export function seedFromString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * A generator function over {@link nextRandom}, for code that keeps its own stream (the
 * `swarm` balancer's Thompson draws): the same seed gives the same sequence.
 *
 * @example
 * ```ts
 * const random = randomSource(42);
 * random(); // in [0, 1)
 * ```
 */
export function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    const draw = nextRandom(state);
    state = draw.state;
    return draw.value;
  };
}
