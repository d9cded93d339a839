import type { WorkerMetrics } from './protocol.js';

/**
 * A label-less histogram kept as plain bucket counts and handed over in the JSON form of prom-client's
 * Histogram.get(), which the primary aggregates (AggregatorRegistry) and renders like every other metric.
 * prom-client's own observe() builds, validates and hashes a label set and looks buckets up by number-named
 * keys on each call; on the statement path (three lease waits and a duration per page) that and its counters
 * were ~9% of a worker's main-thread instructions per page (counted with callgrind).
 */
export class BucketHistogram {
  readonly name: string;
  readonly help: string;
  readonly #buckets: readonly number[];
  /** Observations per bucket, not cumulative; the last slot is +Inf. */
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(name: string, help: string, buckets: readonly number[]) {
    this.name = name;
    this.help = help;
    this.#buckets = buckets;
    this.#counts = new Float64Array(buckets.length + 1);
  }

  /** Counts `value` in the first bucket whose upper bound is at least `value` (prom-client's `le`). */
  observe(value: number): void {
    const buckets = this.#buckets;
    let index = 0;
    while (index < buckets.length && value > buckets[index]!) index++;
    this.#counts[index]! += 1;
    this.#sum += value;
    this.#count += 1;
  }

  /** What prom-client's Histogram.get() returns: cumulative `_bucket` values by `le`, `+Inf`, `_sum`, `_count`. */
  toJSON(): WorkerMetrics[number] {
    const bucket = `${this.name}_bucket`;
    let cumulative = 0;
    const values = this.#buckets.map((le, index) => ({ labels: { le }, value: (cumulative += this.#counts[index]!), metricName: bucket }));
    values.push(
      { labels: { le: '+Inf' as unknown as number }, value: this.#count, metricName: bucket },
      { labels: {} as { le: number }, value: this.#sum, metricName: `${this.name}_sum` },
      { labels: {} as { le: number }, value: this.#count, metricName: `${this.name}_count` },
    );
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' } as unknown as WorkerMetrics[number];
  }
}
