import pg from 'pg';
import { waitFor } from './wait-for.js';

/** A superuser connection to the test server, for assertions about what PostgreSQL sees (`pipeline`: as a worker's is). */
export async function adminClient(options: { readonly pipeline?: boolean } = {}): Promise<pg.Client> {
  const connectionString = process.env['PCLUSTER_TEST_DATABASE_URL'];
  if (connectionString === undefined) throw new Error('PCLUSTER_TEST_DATABASE_URL is not set: run the tests through npm test');
  const client = new pg.Client({ connectionString, application_name: 'pcluster-test-admin', pipeline: options.pipeline === true });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** Backends PostgreSQL reports for the cluster named `name` (application_name pcluster:<name>:<slot>). */
export async function clusterBackends(admin: pg.Client, name: string): Promise<{ pid: number; application_name: string; state: string }[]> {
  const { rows } = await admin.query(
    "SELECT pid, application_name, state FROM pg_stat_activity WHERE application_name LIKE $1 ORDER BY application_name",
    [`pcluster:${name}:%`],
  );
  return rows;
}

/** An admin client for one test file: connected in `before`, closed in `after`. */
export function useAdminClient(): () => pg.Client {
  let client: pg.Client | undefined;
  before(async () => {
    client = await adminClient();
  });
  after(async () => {
    await client?.end();
  });
  return () => {
    if (client === undefined) throw new Error('the admin client is not connected yet');
    return client;
  };
}

/**
 * Terminates the backends `pids` and resolves once PostgreSQL no longer shows them: pg_terminate_backend
 * only signals, and a statement written before a backend acts on the signal fails with it (SPEC §3).
 */
export async function terminateBackends(admin: pg.Client, pids: readonly number[]): Promise<void> {
  await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
  await waitFor(async () => (await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1)', [pids])).rows[0].n === 0, 10_000, `backends ${pids.join(', ')} to exit`);
}
