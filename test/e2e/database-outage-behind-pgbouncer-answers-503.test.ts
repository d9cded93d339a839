import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import { useOwnPostgres } from '../support/own-postgres.js';
import { usePgbouncer } from '../support/pgbouncer.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Behind PgBouncer the worker's connection is to PgBouncer, which stays up while PostgreSQL is down: the outage
 * reaches pcluster as PgBouncer's refusal of each statement (query_wait_timeout, server_login_retry), and must read
 * as SPEC §3's outage, 503 + Retry-After, not as the handler's failure. PgBouncer as in
 * behind-pgbouncer-in-transaction-mode.test.ts (installed when root, else skipped with the reason).
 */
describe('while PostgreSQL is down behind PgBouncer (--pooler transaction)', () => {
  const postgres = useOwnPostgres();
  // A statement waits for a server connection at most 1 s (at most --lease-timeout, as the README advises).
  const bouncer = usePgbouncer(() => postgres().connectionString, { query_wait_timeout: '1', server_login_retry: '1' });

  it('database requests get 503 + Retry-After, others keep working, and service resumes without restarts', async function () {
    this.timeout(120_000);
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1, databaseUrl: bouncer().connectionString, args: ['--pooler', 'transaction', '--lease-timeout', '1s'] });
    const before = await (await fetch(`${cluster.url}/pid`)).json();

    await postgres().stop('fast');
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${cluster.url}/pid`);
      answers.push(`${response.status} Retry-After: ${response.headers.get('retry-after')}`);
      await response.text();
    }
    expect(answers).to.deep.equal(Array(4).fill('503 Retry-After: 1'));
    const nodb = await fetch(`${cluster.url}/nodb`);
    expect(nodb.status).to.equal(200);
    await nodb.text();

    await postgres().start();
    let recovered: { workerPid: number } | undefined;
    await waitFor(async () => {
      const response = await fetch(`${cluster.url}/pid`);
      if (response.status === 200) recovered = (await response.json()) as { workerPid: number };
      else await response.text();
      return recovered !== undefined;
    }, 20_000, 'a successful database request after the restart');
    expect(recovered!.workerPid, 'the worker was not restarted').to.equal(before['workerPid']);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
