import { expect } from 'chai';
import { useAdminClient } from '../support/database.js';
import { createAppDatabase, databaseBackends, startExistingApp } from '../support/existing-app.js';
import { metricValue } from '../support/http.js';
import { requestAll } from '../support/requests.js';
import { waitFor } from '../support/wait-for.js';

// `--pg-compat off` (SPEC §1, §2.1): the app's require('pg') is node-postgres itself, so its own Pool opens
// connections of its own, outside the budget — and PostgreSQL's count in /metrics still shows them.
describe('--pg-compat off gives the app the real pg', () => {
  const admin = useAdminClient();

  it('the Express app\'s own Pool then holds connections of its own beside the workers\' two', async function () {
    this.timeout(60_000);
    const database = await createAppDatabase(admin(), 'express-pool-real-pg');
    try {
      const cluster = await startExistingApp('express-pool.cjs', database, { args: ['--pg-compat', 'off'] });
      // Concurrent requests make each worker's real pg.Pool open several clients (pg's default max is 10).
      const burst = async (): Promise<Set<number>> => {
        const outcomes = await requestAll(Array.from({ length: 48 }, () => `${cluster.url}/pid`), 24);
        expect(outcomes.map((o) => o.status)).to.deep.equal(Array(48).fill(200));
        return new Set(outcomes.map((o) => o.body!['backendPid'] as number));
      };
      const served = await burst();
      const workerNames = new Set([1, 2].map((slot) => `pcluster:${cluster.name}:${slot}`));
      const backends = await databaseBackends(admin(), database.name);
      expect(backends.length, 'backends on the app\'s database').to.be.greaterThan(2);
      expect(backends.filter((b) => workerNames.has(b.application_name))).to.have.length(2);
      const appBackends = backends.filter((b) => !workerNames.has(b.application_name)).map((b) => b.pid);
      expect(appBackends).to.include.members([...served]);
      expect(served.size, 'distinct backends that answered the app\'s queries').to.be.greaterThan(2);

      // The server-side count includes them; keep the pool's clients busy so that they are not reaped (idle 10 s) meanwhile.
      let isBusy = true;
      const busy = (async () => {
        while (isBusy) await burst();
      })();
      try {
        await waitFor(
          async () => (metricValue(await (await fetch(`${cluster.metricsUrl}/metrics`)).text(), 'pcluster_db_server_connections') ?? 0) > 2,
          15_000,
          'pcluster_db_server_connections to count the app\'s own connections',
        );
      } finally {
        isBusy = false;
        await busy;
      }

      expect((await cluster.stop()).code).to.equal(0);
      await waitFor(async () => (await databaseBackends(admin(), database.name)).length === 0, 2_000, `no backend left on ${database.name} after the stop`);
    } finally {
      await database.drop();
    }
  });
});
