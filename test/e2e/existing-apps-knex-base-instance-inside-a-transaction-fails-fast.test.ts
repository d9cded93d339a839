import { expect } from 'chai';
import { waitFor } from '../support/wait-for.js';
import { useAdminClient } from '../support/database.js';
import { createAppDatabase, postJson, startExistingApp } from '../support/existing-app.js';
import { getJson } from '../support/http.js';

// The classic knex mistake — a query through the base `knex` inside knex.transaction() — needs a second
// connection. On the worker's one connection it must fail at once with PCLUSTER_CONNECTION_PINNED and roll
// the transaction back, never hang until knex's 60 s acquire timeout (SPEC §2.1).
describe('knex\'s base instance used inside its own transaction', () => {
  const admin = useAdminClient();

  it('fails within a second with PCLUSTER_CONNECTION_PINNED, and the transaction is rolled back', async function () {
    this.timeout(60_000);
    const database = await createAppDatabase(admin(), 'knex-misuse');
    try {
      const cluster = await startExistingApp('knex-app.mjs', database, { workers: 1 });
      const a = (await postJson(`${cluster.url}/accounts`, { owner: 'alice', balance: 100 })).body['id'] as number;
      const b = (await postJson(`${cluster.url}/accounts`, { owner: 'bob', balance: 100 })).body['id'] as number;

      const startedAt = Date.now();
      const misuse = await fetch(`${cluster.url}/transfer-with-audit`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from: a, to: b, amount: 10 }),
      });
      const elapsedMs = Date.now() - startedAt;
      expect(misuse.status).to.equal(500);
      expect(elapsedMs, 'time to the error').to.be.below(1_000);
      // The app's own output reaches the cluster's log through the primary: a moment after the response.
      await waitFor(() => (cluster.stdout + cluster.stderr).includes('PCLUSTER_CONNECTION_PINNED'), 5_000, 'the app to log the error it got');

      // The credit written before the failure was rolled back, and the worker's connection serves the next requests.
      expect((await getJson(`${cluster.url}/accounts/${b}`)).body['balance']).to.equal(100);
      expect(await postJson(`${cluster.url}/transfer`, { from: a, to: b, amount: 10 })).to.deep.equal({ status: 200, body: { from: 90, to: 110 } });
      expect((await getJson(`${cluster.url}/total`)).body).to.deep.equal({ accounts: 2, total: 200 });
      expect((await cluster.stop()).code).to.equal(0);
    } finally {
      await database.drop();
    }
  });
});
