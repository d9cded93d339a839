import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import { sampleConnections } from '../support/connection-sampler.js';
import { useAdminClient } from '../support/database.js';
import { metricValue } from '../support/http.js';
import { startLoad } from '../support/load.js';
import { clusterStatus } from '../support/status.js';
import { waitFor } from '../support/wait-for.js';

describe('--max-requests under keep-alive load', () => {
  const admin = useAdminClient();

  it('recycles workers several times, fails no request, and never exceeds the connection budget', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2, args: ['--max-requests', '100', '--max-requests-jitter', '20'] });
    const firstPids = (await clusterStatus(cluster)).workers.map((w) => w.pid);
    const sampler = sampleConnections(admin(), cluster.name);
    const load = startLoad(`${cluster.url}/page`, 16);
    const restarts = async (): Promise<number> =>
      metricValue(await (await fetch(`${cluster.metricsUrl}/metrics`)).text(), 'pcluster_worker_restarts_total{reason="max_requests"}') ?? 0;
    await waitFor(async () => (await restarts()) >= 4, 60_000, 'four recycles');
    const outcome = await load.stop();
    const connections = await sampler.stop();

    expect(outcome.failures, JSON.stringify(outcome.statusCodes)).to.equal(0);
    expect(outcome.requests).to.be.greaterThan(400);
    expect(connections.max, `max connections seen in ${connections.samples} samples`).to.be.at.most(3);
    const status = await clusterStatus(cluster);
    expect(status.workers.map((w) => w.pid)).not.to.include.members(firstPids.filter((pid) => pid !== undefined));
    expect(status.workers.some((w) => w.lastRestartReason === 'max_requests')).to.equal(true);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
