import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import { getJson } from '../support/http.js';
import { clusterStatus } from '../support/status.js';
import { waitFor } from '../support/wait-for.js';

describe('workers the primary must take out', () => {
  it('--timeout: a worker whose event loop is blocked is killed and replaced (reason timeout); the other keeps serving', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2, args: ['--timeout', '1s'] });
    const before = await clusterStatus(cluster);
    const blocked = fetch(`${cluster.url}/block?ms=20000`).then((r) => r.status, () => 'connection lost');
    await waitFor(async () => {
      const { workers } = await clusterStatus(cluster);
      return workers.some((w) => w.lastRestartReason === 'timeout' && w.state === 'ready');
    }, 30_000, 'the hung worker to be replaced');
    expect(await blocked).to.equal('connection lost');
    const after = await clusterStatus(cluster);
    const replaced = after.workers.filter((w) => w.lastRestartReason === 'timeout');
    expect(replaced).to.have.length(1);
    expect(before.workers.map((w) => w.pid)).not.to.include(replaced[0]!.pid);
    for (let i = 0; i < 6; i++) expect((await getJson(`${cluster.url}/pid`)).status).to.equal(200);
    const metrics = await (await fetch(`${cluster.metricsUrl}/metrics`)).text();
    expect(metrics).to.match(/pcluster_worker_restarts_total\{reason="timeout"\} 1\b/);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('--max-memory: a worker whose RSS passes the limit is recycled (reason max_memory)', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1, args: ['--max-memory', '200MB'] });
    const before = await clusterStatus(cluster);
    expect((await getJson(`${cluster.url}/allocate?mb=250`)).status).to.equal(200);
    await waitFor(async () => {
      const { workers } = await clusterStatus(cluster);
      return workers.length === 1 && workers[0]!.lastRestartReason === 'max_memory' && workers[0]!.state === 'ready';
    }, 30_000, 'the recycle');
    const after = await clusterStatus(cluster);
    expect(after.workers[0]!.pid).not.to.equal(before.workers[0]!.pid);
    expect(after.workers[0]!.rssBytes).to.be.below(200 * 1024 * 1024);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
