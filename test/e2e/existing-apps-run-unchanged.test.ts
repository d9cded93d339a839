import { expectAccountsAppRunsUnchanged } from '../support/existing-app.js';
import { useAdminClient } from '../support/database.js';

// Apps written for PM2 with node-postgres itself: they listen() themselves, export nothing and build their
// own Pool or Client from DATABASE_URL (SPEC §2, §2.1). Each runs, unchanged, on exactly one connection per worker.
describe('existing node-postgres apps run unchanged on one connection per worker', () => {
  const admin = useAdminClient();

  it('an Express app with its own new Pool(), callback queries and a pool.connect() transaction', async function () {
    this.timeout(120_000);
    await expectAccountsAppRunsUnchanged(admin(), 'express-pool.cjs');
  });

  it('an ES module with one global pg.Client connected by top-level await, shared by every request, transactions included', async function () {
    this.timeout(120_000);
    await expectAccountsAppRunsUnchanged(admin(), 'esm-global-client.mjs');
  });
});
