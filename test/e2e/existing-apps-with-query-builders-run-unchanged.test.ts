import { expectAccountsAppRunsUnchanged } from '../support/existing-app.js';
import { useAdminClient } from '../support/database.js';

// Query builders that bring their own pool of pg clients (knex), or drive the app's pg.Pool (kysely's
// PostgresDialect, drizzle's node-postgres driver), unchanged, with their own transaction APIs (SPEC §2.1).
describe('existing apps using query builders run unchanged on one connection per worker', () => {
  const admin = useAdminClient();

  it('Express + knex, with schema built at load and knex.transaction()', async function () {
    this.timeout(120_000);
    await expectAccountsAppRunsUnchanged(admin(), 'knex-app.mjs');
  });

  it('Express + kysely over the app\'s pg.Pool, with db.transaction().execute()', async function () {
    this.timeout(120_000);
    await expectAccountsAppRunsUnchanged(admin(), 'kysely-app.mjs');
  });

  it('Koa + drizzle-orm/node-postgres over the app\'s pg.Pool, with db.transaction()', async function () {
    this.timeout(120_000);
    await expectAccountsAppRunsUnchanged(admin(), 'drizzle-app.mjs');
  });
});
