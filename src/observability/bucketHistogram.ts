import type { MetricObjectWithValues, MetricType, MetricValueWithName } from 'prom-client';

interface Slot {
  /** Observations per bucket (not cumulative); the last one is above every bound. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram with one label, for per-message hot paths: an observation is a
 * map lookup, a scan of a dozen bounds and three additions (prom-client's own histogram
 * validates and hashes its labels on every call). It is read through the same `get()`
 * contract as prom-client's metrics, so a prom-client registry exposes it as any other.
 * @internal
 */
export class BucketHistogram {
  // prom-client declares `MetricType` as an enum it does not export at run time.
  readonly type = 'histogram' as unknown as MetricType;
  readonly aggregator = 'sum';
  private readonly slots = new Map<string, Slot>();
  private readonly bounds: readonly number[];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName: string,
    buckets: readonly number[],
  ) {
    this.bounds = [...buckets].sort((a, b) => a - b);
  }

  observe(labelValue: string, value: number): void {
    let slot = this.slots.get(labelValue);
    if (slot === undefined) {
      slot = { counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
      this.slots.set(labelValue, slot);
    }
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    slot.counts[i] = (slot.counts[i] as number) + 1;
    slot.sum += value;
    slot.count++;
  }

  reset(): void {
    this.slots.clear();
  }

  /** Cumulative `_bucket` series (with `le`), `_sum` and `_count` per label value, as prom-client's histograms report them. */
  async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: MetricValueWithName<string>[] = [];
    for (const [labelValue, slot] of this.slots) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += slot.counts[i] as number;
        values.push({ metricName: `${this.name}_bucket`, labels: { le: bound, [this.labelName]: labelValue }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', [this.labelName]: labelValue }, value: slot.count });
      values.push({ metricName: `${this.name}_sum`, labels: { [this.labelName]: labelValue }, value: slot.sum });
      values.push({ metricName: `${this.name}_count`, labels: { [this.labelName]: labelValue }, value: slot.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator, collect: () => undefined };
  }
}
