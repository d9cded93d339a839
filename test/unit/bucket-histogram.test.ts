import { expect } from 'chai';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { BucketHistogram } from '@pcluster/worker-runtime/internal/bucket-histogram';

const BUCKETS = [0.0001, 0.001, 0.01, 0.1, 1];
const VALUES = [0, 0.0001, 0.00011, 0.001, 0.004, 0.01, 0.5, 1, 1.5, 30];

/** The same observations through prom-client's own Histogram, as JSON. */
async function promClientJson(values: readonly number[]): Promise<unknown> {
  const registry = new Registry();
  const histogram = new Histogram({ name: 'x_seconds', help: 'x', buckets: BUCKETS, registers: [registry] });
  for (const value of values) histogram.observe(value);
  return (await registry.getMetricsAsJSON())[0];
}

/** What the primary reads: name, type, aggregator, and each value by series name and labels. */
function essentials(metric: unknown): unknown {
  const { name, help, type, aggregator, values } = metric as { name: string; help: string; type: string; aggregator: string; values: { labels: object; value: number; metricName?: string }[] };
  return { name, help, type, aggregator, values: values.map(({ labels, value, metricName }) => ({ labels, value, metricName })) };
}

describe('BucketHistogram', () => {
  it('hands over exactly what prom-client\'s Histogram would for the same observations', async () => {
    const histogram = new BucketHistogram('x_seconds', 'x', BUCKETS);
    for (const value of VALUES) histogram.observe(value);
    expect(essentials(histogram.toJSON())).to.deep.equal(essentials(await promClientJson(VALUES)));
  });

  it('aggregates across workers and renders as a Prometheus histogram', async () => {
    const [a, b] = [new BucketHistogram('x_seconds', 'x', BUCKETS), new BucketHistogram('x_seconds', 'x', BUCKETS)];
    a.observe(0.0005);
    b.observe(0.0005);
    b.observe(2);
    const text = await AggregatorRegistry.aggregate([[a.toJSON()], [b.toJSON()]] as never).metrics();
    expect(text).to.include('# TYPE x_seconds histogram');
    expect(text).to.include('x_seconds_bucket{le="0.001"} 2');
    expect(text).to.include('x_seconds_bucket{le="+Inf"} 3');
    expect(text).to.include('x_seconds_sum 2.001');
    expect(text).to.include('x_seconds_count 3');
  });
});
