import { startPostgres, type PostgresServer } from 'pcluster/postgres';

/**
 * A PostgreSQL server for one test file, which the tests may stop and restart without
 * disturbing the rest of the run. Call in `before`; it is destroyed in `after`.
 */
export function useOwnPostgres(): () => PostgresServer {
  let server: PostgresServer | undefined;
  before(async function () {
    this.timeout(60_000);
    server = await startPostgres();
  });
  after(async () => {
    await server?.destroy();
  });
  return () => {
    if (server === undefined) throw new Error('the per-file PostgreSQL has not started');
    return server;
  };
}
