import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI, REPO_ROOT, startCluster, fixture, type ClusterProcess } from '../support/cluster-process.js';
import { sampleConnections } from '../support/connection-sampler.js';
import { useAdminClient } from '../support/database.js';
import { metricValue } from '../support/http.js';
import { startLoad } from '../support/load.js';
import { clusterStatus } from '../support/status.js';
import { waitFor } from '../support/wait-for.js';

describe('rolling reload under keep-alive load', () => {
  const admin = useAdminClient();

  const triggers: { how: string; reload: (cluster: ClusterProcess) => Promise<void> }[] = [
    { how: 'SIGHUP', reload: async (cluster) => void cluster.child.kill('SIGHUP') },
    {
      how: 'pcluster reload',
      reload: async (cluster) => {
        const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'reload', '--name', cluster.name], { cwd: REPO_ROOT });
        expect(stdout).to.match(/rolling reload/);
      },
    },
  ];
  for (const { how, reload } of triggers) {
    it(`${how}: every worker is replaced make-before-break, no request fails, the budget holds`, async () => {
      const cluster = await startCluster(fixture('routes.mjs'), { workers: 3 });
      const before = await clusterStatus(cluster);
      const sampler = sampleConnections(admin(), cluster.name);
      const load = startLoad(`${cluster.url}/page`, 16);
      await waitFor(async () => {
        const metrics = await (await fetch(`${cluster.metricsUrl}/metrics`)).text();
        return (metricValue(metrics, 'pcluster_http_requests_total{code="2xx"}') ?? 0) >= 50;
      }, 20_000, 'the load to be flowing');
      await reload(cluster);
      // Each slot keeps a ready worker until its successor is ready, even while the worker replaced before it
      // still drains on the budget's one spare connection (default --max-connections = workers + 1).
      let fewestReady = Infinity;
      await waitFor(async () => {
        const status = await clusterStatus(cluster);
        fewestReady = Math.min(fewestReady, status.workers.filter((w) => w.state === 'ready').length);
        return status.workers.length === 3 && status.workers.every((w) => w.generation === 2 && w.state === 'ready');
      }, 60_000, 'all workers in generation 2');
      const outcome = await load.stop();
      const connections = await sampler.stop();

      expect(fewestReady, 'ready workers at the lowest point of the reload').to.equal(3);
      // /status was polled all through the reload: a booting worker is not asked (it could not answer), one that exits is not waited for.
      const metrics = await (await fetch(`${cluster.metricsUrl}/metrics`)).text();
      expect(metricValue(metrics, 'pcluster_metrics_collection_misses_total'), 'workers that did not answer /status or /metrics').to.equal(0);
      expect(outcome.failures, JSON.stringify(outcome.statusCodes)).to.equal(0);
      expect(outcome.requests).to.be.greaterThan(100);
      expect(connections.max).to.be.at.most(4);
      const after = await clusterStatus(cluster);
      const oldPids = new Set(before.workers.map((w) => w.pid));
      expect(after.workers.filter((w) => oldPids.has(w.pid)), 'every pid changed').to.have.length(0);
      expect(after.workers.map((w) => w.lastRestartReason)).to.deep.equal(['reload', 'reload', 'reload']);
      expect((await cluster.stop()).code).to.equal(0);
    });
  }
});
