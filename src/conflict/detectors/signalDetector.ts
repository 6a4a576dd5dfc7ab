import { z } from 'zod';
import { ValidationError } from '../../errors';
import { ConflictType, type ConflictInput } from '../model/conflictTypes';

/** Which rule decides that opposing signals conflict. */
export const SignalRule = {
  /** Severity = |mean BUY confidence − mean SELL confidence|, a conflict only above 0.3; 60 s deadline. */
  GUIDE: 'guide',
  /** Any BUY and SELL in one symbol and timeframe; severity 0.8, 300 s deadline. */
  CODE: 'code',
} as const;
export type SignalRule = (typeof SignalRule)[keyof typeof SignalRule];

/** Guide rule: the confidence gap above which opposing signals are a conflict. */
export const SIGNAL_SEVERITY_THRESHOLD = 0.3;
export const GUIDE_SIGNAL_DEADLINE_MS = 60_000;
export const CODE_SIGNAL_SEVERITY = 0.8;
export const CODE_SIGNAL_DEADLINE_MS = 300_000;

/** A trading signal as an agent emits it. `signal` is case-insensitive. */
export const TradingSignalSchema = z.object({
  agentId: z.string().min(1),
  symbol: z.string().default(''),
  timeframe: z.string().default(''),
  signal: z
    .string()
    .transform((s) => s.toUpperCase())
    .pipe(z.enum(['BUY', 'SELL', 'HOLD'])),
  confidence: z.number().min(0).max(1),
  amount: z.number().finite().optional(),
});
/** A list of {@link TradingSignalSchema} (built once: a schema built at each call costs ~6 µs). */
const TradingSignalsSchema = z.array(TradingSignalSchema);
export type TradingSignalInput = z.input<typeof TradingSignalSchema>;
export type TradingSignal = z.output<typeof TradingSignalSchema>;

/** Options of {@link detectSignalConflicts}. */
export interface SignalDetectionOptions {
  /** Default `guide`. */
  readonly rule?: SignalRule;
}

/** Confidences are decimals: 0.9 − 0.6 must not count as above 0.3 because of float noise. */
const FLOAT_TOLERANCE = 1e-9;

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * Finds opposing trading signals. Signals are grouped by symbol and timeframe; a group
 * with both BUY and SELL is a conflict under the `code` rule, and under the `guide`
 * rule (the default) only when the mean confidences differ by more than 0.3. Returns
 * one conflict per conflicting group (not reported: the engine does that). Pure.
 *
 * @example
 * ```ts
 * const [conflict] = detectSignalConflicts(
 *   [
 *     { agentId: 'a', symbol: 'BTC', signal: 'BUY', confidence: 0.9 },
 *     { agentId: 'b', symbol: 'BTC', signal: 'SELL', confidence: 0.5 },
 *   ],
 *   clock.now(),
 * ); // severity 0.4
 * ```
 */
export function detectSignalConflicts(signals: readonly TradingSignalInput[], now: number, options: SignalDetectionOptions = {}): ConflictInput[] {
  const parsed = TradingSignalsSchema.safeParse(signals);
  if (!parsed.success) throw ValidationError.fromZod('signals', parsed.error);
  const rule = options.rule ?? SignalRule.GUIDE;
  const groups = new Map<string, TradingSignal[]>();
  for (const signal of parsed.data) {
    const key = JSON.stringify([signal.symbol, signal.timeframe]);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(signal);
  }
  const conflicts: ConflictInput[] = [];
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const buySignals = group.filter((s) => s.signal === 'BUY');
    const sellSignals = group.filter((s) => s.signal === 'SELL');
    if (buySignals.length === 0 || sellSignals.length === 0) continue;
    const buyConfidence = mean(buySignals.map((s) => s.confidence));
    const sellConfidence = mean(sellSignals.map((s) => s.confidence));
    const guide = rule === SignalRule.GUIDE;
    const severity = guide ? Math.abs(buyConfidence - sellConfidence) : CODE_SIGNAL_SEVERITY;
    if (guide && !(severity > SIGNAL_SEVERITY_THRESHOLD + FLOAT_TOLERANCE)) continue;
    const { symbol, timeframe } = group[0] as TradingSignal;
    conflicts.push({
      conflictType: ConflictType.SIGNAL_CONFLICT,
      description: `Conflicting trading signals detected${symbol ? ` for ${symbol}` : ''}${timeframe ? ` (${timeframe})` : ''}`,
      involvedAgents: group.map((s) => s.agentId),
      conflictingElements: { symbol, timeframe, rule, buySignals, sellSignals, buyConfidence, sellConfidence },
      severity: Math.min(1, severity),
      detectedAt: now,
      resolutionDeadline: now + (guide ? GUIDE_SIGNAL_DEADLINE_MS : CODE_SIGNAL_DEADLINE_MS),
      options: ['BUY', 'SELL', 'HOLD'],
    });
  }
  return conflicts;
}
