import { expect } from 'chai';
import { spawnCluster, startCluster, fixture } from '../support/cluster-process.js';
import { useAdminClient, clusterBackends } from '../support/database.js';
import { getJson, metricValue } from '../support/http.js';
import { waitFor } from '../support/wait-for.js';

describe('graceful stop', () => {
  const admin = useAdminClient();

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} mid-load: in-flight requests complete, exit 0, no connection left`, async () => {
      const cluster = await startCluster(fixture('routes.mjs'), { workers: 2 });
      expect(await clusterBackends(admin(), cluster.name)).to.have.length(2);
      const statements = async (): Promise<number> =>
        metricValue(await (await fetch(`${cluster.metricsUrl}/metrics`)).text(), 'pcluster_db_lease_wait_seconds_count') ?? 0;
      const before = await statements();
      const inFlight = Array.from({ length: 10 }, () => getJson(`${cluster.url}/slow?ms=1500`));
      // Every request is in a handler once its first statement has run: each statement is one lease-wait sample.
      await waitFor(async () => (await statements()) >= before + 10);
      cluster.child.kill(signal);
      const responses = await Promise.all(inFlight);
      expect(responses.map((r) => r.status)).to.deep.equal(Array(10).fill(200));
      expect(responses.every((r) => r.body['done'] === true)).to.equal(true);
      expect((await cluster.exited).code).to.equal(0);
      expect(await clusterBackends(admin(), cluster.name)).to.have.length(0);
    });
  }

  it('a stop while the workers are still loading ends at once: none of them boots', async () => {
    // The drain reaches a worker before its message listener exists and is lost; the primary repeats it on the worker's hello.
    const cluster = await spawnCluster(fixture('routes.mjs'), { workers: 2, env: { PCLUSTER_LOG_LEVEL: 'debug' } });
    await cluster.waitForLog((line) => line.msg === 'worker forked', 20_000);
    const stoppedAt = Date.now();
    const exit = await cluster.stop('SIGTERM');
    expect(exit.code).to.equal(0);
    expect(cluster.logs().filter((line) => line.msg === 'worker ready'), 'workers that booted anyway').to.have.length(0);
    // Not a timing target: a worker that booted anyway is SIGKILLed only after --graceful-timeout (10 s here) + 2 s.
    expect(Date.now() - stoppedAt, 'time to stop').to.be.below(8_000);
    expect(await clusterBackends(admin(), cluster.name)).to.have.length(0);
  });

  it('a stop while setup() runs: teardown waits for setup to finish, and the worker never takes traffic', async () => {
    const cluster = await spawnCluster(fixture('slow-setup.mjs'), { workers: 1 });
    await cluster.waitForLog((line) => line.msg === 'fixture setup started', 20_000);
    expect((await cluster.stop('SIGTERM')).code).to.equal(0);
    const events = cluster.logs().map((line) => line.msg).filter((msg) => msg?.startsWith('fixture ') || msg === 'worker ready');
    expect(events, 'in this order, and no worker ready').to.deep.equal(['fixture setup started', 'fixture setup done', 'fixture teardown']);
    expect(await clusterBackends(admin(), cluster.name)).to.have.length(0);
  });
});
