import { startPostgres, type PostgresServer } from 'pcluster/postgres';

let server: PostgresServer | undefined;

/** The run's shared PostgreSQL server (tests in this process may restart it only if they start it again). */
export function testPostgres(): PostgresServer {
  if (server === undefined) throw new Error('the test PostgreSQL is not running: run the tests through npm test');
  return server;
}

/** Mocha global fixture: one throwaway PostgreSQL for the whole run, reached through PCLUSTER_TEST_DATABASE_URL. */
export async function mochaGlobalSetup(): Promise<void> {
  server = await startPostgres({ maxConnections: 200 });
  process.env['PCLUSTER_TEST_DATABASE_URL'] = server.connectionString;
}

export async function mochaGlobalTeardown(): Promise<void> {
  await server?.destroy();
}
