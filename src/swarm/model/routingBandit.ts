/**
 * Routing as a bandit problem. For each producer, choosing the consumer of its output is a
 * Bernoulli bandit whose arms are the candidate consumers: a pair (producer → consumer)
 * succeeds with an unknown probability θ. The swarm keeps, per pair, a Beta posterior on θ
 * with discounted counts, and the `swarm` balancer draws from the posteriors (Thompson
 * sampling). A pair never tried has the uniform prior Beta(1, 1): its draws are as often
 * high as low, so it gets explored until its own evidence says otherwise; a pair that keeps
 * failing draws low and is left alone, but not forever.
 *
 * Forgetting: each time a producer's output is judged, every pair of that producer has its
 * counts multiplied by `discount` (≤ 1) before the new outcome is added (discounted Thompson
 * sampling). Evidence older than about `1 / (1 − discount)` judgements of that producer
 * fades, and a pair not tried for a while drifts back to the prior and is tried again: the
 * swarm follows a world that changes. The discount is applied lazily: a pair stores its
 * counts as of the producer's step `step`, and reads multiply by `discount^(now − step)`.
 *
 * Every function here is pure (no state, no clock, randomness only from the `random`
 * argument) and total: counts that are not finite and non-negative (a corrupted or hostile
 * snapshot) read as no evidence.
 */

/** The evidence about one producer → consumer pair, as of its producer's step `step`. */
export interface PairPosterior {
  /** Discounted count of successes. */
  successes: number;
  /** Discounted count of failures (failures that were the pair's fault). */
  failures: number;
  /** The producer's judgement count when the counts were last brought up to date. */
  step: number;
}

/** Parameters of a Beta distribution. */
export interface BetaParameters {
  readonly alpha: number;
  readonly beta: number;
}

/** The prior of a pair never tried: Beta(1, 1), uniform on [0, 1]. */
export const PRIOR: BetaParameters = { alpha: 1, beta: 1 };

/** A uniform draw in [0, 1). */
export type RandomSource = () => number;

/**
 * Most evidence a count holds. With the default discount a count never exceeds
 * 1 / (1 − discount) = 20; a larger one comes from a hostile snapshot or `discount: 1`, and is
 * capped so that sums of counts and Gamma shapes stay finite.
 */
export const MAX_EVIDENCE = 1e12;

function evidence(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.min(value, MAX_EVIDENCE) : 0;
}

function stepOf(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

function discountFactor(discount: number, steps: number): number {
  if (!(discount >= 0 && discount <= 1) || steps <= 0) return 1;
  return discount ** steps;
}

/**
 * The pair's counts discounted up to the producer's step `now` (no evidence without a
 * posterior). A stored step ahead of `now` (a corrupted snapshot) is read as `now`.
 *
 * @example
 * ```ts
 * discountedCounts({ successes: 4, failures: 0, step: 10 }, 12, 0.5); // { successes: 1, failures: 0 }
 * ```
 */
export function discountedCounts(posterior: Readonly<PairPosterior> | undefined, now: number, discount: number): { readonly successes: number; readonly failures: number } {
  if (!posterior) return { successes: 0, failures: 0 };
  const factor = discountFactor(discount, stepOf(now) - stepOf(posterior.step));
  return { successes: evidence(posterior.successes) * factor, failures: evidence(posterior.failures) * factor };
}

/**
 * The Beta posterior of a pair at the producer's step `now`: the prior plus the discounted
 * counts.
 *
 * @example
 * ```ts
 * betaPosterior(undefined, 0, 0.97); // { alpha: 1, beta: 1 }: never tried
 * ```
 */
export function betaPosterior(posterior: Readonly<PairPosterior> | undefined, now: number, discount: number): BetaParameters {
  const counts = discountedCounts(posterior, now, discount);
  return { alpha: PRIOR.alpha + counts.successes, beta: PRIOR.beta + counts.failures };
}

/**
 * The posterior after one more judged outcome at the producer's step `now` (the step the
 * producer reaches with this outcome): the old counts discounted to `now`, plus 1 success
 * or 1 failure.
 *
 * @example
 * ```ts
 * let p = updatePosterior(undefined, 1, true, 0.97); // { successes: 1, failures: 0, step: 1 }
 * p = updatePosterior(p, 2, false, 0.97);            // { successes: 0.97, failures: 1, step: 2 }
 * ```
 */
export function updatePosterior(posterior: Readonly<PairPosterior> | undefined, now: number, success: boolean, discount: number): PairPosterior {
  const step = stepOf(now);
  // discountedCounts' arithmetic without its object: one allocation per judged outcome, not two.
  const factor = posterior ? discountFactor(discount, step - stepOf(posterior.step)) : 0;
  return {
    successes: (posterior ? evidence(posterior.successes) * factor : 0) + (success ? 1 : 0),
    failures: (posterior ? evidence(posterior.failures) * factor : 0) + (success ? 0 : 1),
    step,
  };
}

/**
 * How much evidence a pair holds at the producer's step `now` (discounted successes plus
 * failures): below about 1e-3 it reads as the prior.
 */
export function evidenceAt(posterior: Readonly<PairPosterior> | undefined, now: number, discount: number): number {
  const counts = discountedCounts(posterior, now, discount);
  return counts.successes + counts.failures;
}

/** The posterior mean success probability of a pair (0.5 for parameters that are not positive finite numbers). */
export function posteriorMean({ alpha, beta }: BetaParameters): number {
  if (!(alpha > 0 && beta > 0 && Number.isFinite(alpha) && Number.isFinite(beta))) return 0.5;
  // Not alpha / (alpha + beta): the sum overflows for huge parameters.
  return 1 / (1 + beta / alpha);
}

/** A uniform draw in (0, 1): never 0, so that logarithms stay finite. */
function openUnit(random: RandomSource): number {
  const u = random();
  return u > 0 && u < 1 ? u : 0.5;
}

/** A standard normal draw (Box–Muller). */
function normal(random: RandomSource): number {
  return Math.sqrt(-2 * Math.log(openUnit(random))) * Math.cos(2 * Math.PI * openUnit(random));
}

/**
 * A Gamma(shape, 1) draw, Marsaglia–Tsang; shapes below 1 use the `U^(1/shape)` boost.
 *
 * @example
 * ```ts
 * sampleGamma(2.5, Math.random);
 * ```
 */
export function sampleGamma(shape: number, random: RandomSource): number {
  if (!(shape > 0) || !Number.isFinite(shape)) return 0;
  if (shape < 1) return sampleGamma(shape + 1, random) * openUnit(random) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (let tries = 0; tries < 1000; tries++) {
    const x = normal(random);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = openUnit(random);
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
  return d; // a source that is not random enough: the mode, rather than looping forever
}

/**
 * A Beta(alpha, beta) draw from two Gamma draws; the mean when the parameters are not
 * positive finite numbers.
 *
 * @example
 * ```ts
 * sampleBeta({ alpha: 1, beta: 1 }, random); // uniform on [0, 1]
 * ```
 */
export function sampleBeta({ alpha, beta }: BetaParameters, random: RandomSource): number {
  if (!(alpha > 0 && beta > 0 && Number.isFinite(alpha) && Number.isFinite(beta))) return 0.5;
  const x = sampleGamma(alpha, random);
  const y = sampleGamma(beta, random);
  // Not x / (x + y): the sum overflows to Infinity for huge parameters (and the draw to 0).
  if (x > 0 && Number.isFinite(x) && y >= 0 && Number.isFinite(y)) return 1 / (1 + y / x);
  if (x === 0 && y > 0) return 0;
  return posteriorMean({ alpha, beta });
}
