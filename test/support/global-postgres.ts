import { startPostgres, type PostgresServer } from 'pcluster/postgres';

let server: PostgresServer | undefined;

/**
 * The run's shared PostgreSQL server, in the process that ran the global fixtures (not in
 * `--parallel` workers: they have PCLUSTER_TEST_DATABASE_URL only). A test that stops it must start it again.
 */
export function testPostgres(): PostgresServer {
  if (server === undefined) throw new Error('the test PostgreSQL is not running in this process: run the tests through npm test (or mocha --require test/dist/support/global-postgres.js)');
  return server;
}

/** Mocha global fixture: one throwaway PostgreSQL for the whole run, reached through PCLUSTER_TEST_DATABASE_URL. */
export async function mochaGlobalSetup(): Promise<void> {
  server = await startPostgres({ maxConnections: 200 });
  process.env['PCLUSTER_TEST_DATABASE_URL'] = server.connectionString;
}

export async function mochaGlobalTeardown(): Promise<void> {
  const running = server;
  server = undefined;
  delete process.env['PCLUSTER_TEST_DATABASE_URL'];
  await running?.destroy();
}
