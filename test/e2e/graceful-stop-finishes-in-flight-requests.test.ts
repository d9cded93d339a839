import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
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
});
