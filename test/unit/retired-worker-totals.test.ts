import { expect } from 'chai';
import { Counter, Gauge, Registry } from 'prom-client';
import { ClusterMetrics, keepTotals } from 'pcluster/internal/cluster-metrics';
import type { WorkerMetrics } from '@pcluster/worker-runtime/protocol';

/** A worker's registry as it answers a scrape: one counter, one gauge. */
async function workerSnapshot(requests: number, rssBytes: number): Promise<WorkerMetrics> {
  const registry = new Registry();
  new Counter({ name: 'pcluster_http_requests_total', help: 'h', labelNames: ['code'], registers: [registry] }).inc({ code: '2xx' }, requests);
  new Gauge({ name: 'pcluster_test_rss_bytes', help: 'h', registers: [registry] }).set(rssBytes);
  return (await registry.getMetricsAsJSON()) as WorkerMetrics;
}

describe('an exited worker\'s totals', () => {
  it('keep its counters as one string, without its gauges', async () => {
    const kept = keepTotals(await workerSnapshot(7, 123));
    expect(kept).to.be.a('string');
    expect(kept).to.include('pcluster_http_requests_total').and.not.include('pcluster_test_rss_bytes');
  });

  it('are folded into the cluster\'s counters, which stay monotonic across exits', async () => {
    const metrics = new ClusterMetrics(() => [], 3);
    metrics.retire(keepTotals(await workerSnapshot(7, 123)));
    metrics.retire(keepTotals(await workerSnapshot(5, 456)));
    const text = await metrics.render([await workerSnapshot(2, 789)]);
    expect(text).to.match(/^pcluster_http_requests_total\{code="2xx"\} 14$/m);
    expect(text).to.match(/^pcluster_test_rss_bytes 789$/m);
  });
});
