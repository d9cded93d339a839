import { expect } from 'chai';
import pg from 'pg';
import { fixture, spawnCluster, startCluster } from '../support/cluster-process.js';
import { useAdminClient } from '../support/database.js';
import { metricValue } from '../support/http.js';
import { startLoad } from '../support/load.js';
import { usePgbouncer } from '../support/pgbouncer.js';
import { requestAll } from '../support/requests.js';
import { clusterStatus } from '../support/status.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Makes PgBouncer open `count` server connections (concurrent transactions), so that it has several to hand out. */
async function warmPool(connectionString: string, count: number): Promise<void> {
  const clients = Array.from({ length: count }, () => new pg.Client({ connectionString }));
  try {
    await Promise.all(clients.map(async (client) => {
      client.on('error', () => {});
      await client.connect();
      await client.query('BEGIN');
      await client.query('SELECT pg_sleep(0.3)');
      await client.query('COMMIT');
    }));
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => {})));
  }
}

/**
 * `--pooler transaction` (SPEC §6) in front of a real PgBouncer (Debian's package, installed by the test when
 * missing and the run is root, as the Prometheus test does; skipped with the reason otherwise). PgBouncer runs
 * with server_round_robin, so consecutive transactions of one client land on different server connections:
 * whatever pcluster keeps per connection (a named statement, a session advisory lock, a backend pid) breaks at once.
 */
describe('behind PgBouncer in transaction mode (--pooler transaction)', () => {
  it('refuses --session with exit 2 and one line pointing at ALTER ROLE … SET', async function () {
    this.timeout(30_000);
    const cluster = await spawnCluster(fixture('pipeline-app.mjs'), { args: ['--pooler', 'transaction', '--session', 'statement_timeout=5s'] });
    expect(await cluster.exitCodeWithin(20_000)).to.equal(2);
    expect(cluster.stderr.trim().split('\n')).to.have.length(1);
    expect(cluster.stderr).to.match(/--session: not with --pooler transaction .*ALTER ROLE <user> SET statement_timeout = '5s'/);
  });

  describe('with PgBouncer running', () => {
    const admin = useAdminClient();
    const bouncer = usePgbouncer(() => process.env['PCLUSTER_TEST_DATABASE_URL']!, { server_round_robin: '1' }, (b) => warmPool(b.connectionString, 4));

    it('serves keep-alive load with no errors; transactions hold no other request\'s statement; the pooler\'s backends are left alone', async function () {
      this.timeout(120_000);
      // setup() touches the database, so the boot runs under pcluster's start-up serialisation. A budget past the
      // server's max_connections (200) is no error here: that bounds PgBouncer's connections, not pcluster's.
      const cluster = await startCluster(fixture('pipeline-app.mjs'), {
        workers: 3, databaseUrl: bouncer().connectionString, args: ['--pooler', 'transaction', '--max-connections', '250'],
      });
      const readyAt = Date.now();
      const load = startLoad(`${cluster.url}/echo?v=7`, 8);

      const run = `pooled-${Date.now()}`;
      const mix = [
        { path: `/write-tx?tag=${run}-tx`, rowsEach: 2 },
        { path: '/txid', rowsEach: 0 },
        { path: `/write-raw?tag=${run}-raw`, rowsEach: 2 },
        { path: `/insert?tag=${run}-plain`, rowsEach: 1 },
        { path: `/write-tx?tag=${run}-tx-rolled-back&rollback=1`, rowsEach: 0 },
        { path: '/txid?params=0', rowsEach: 0 },
        { path: `/write-raw?tag=${run}-raw-rolled-back&rollback=1`, rowsEach: 0 },
        { path: '/txid', rowsEach: 0 },
      ];
      const paths = Array.from({ length: 240 }, (_, i) => mix[i % mix.length]!.path);
      const outcomes = await requestAll(paths.map((path) => `${cluster.url}${path}`), 16);
      // Long enough for the server-connection check (every 2 s, 4 s grace) to have terminated "orphans" if it ran.
      await sleep(Math.max(0, readyAt + 9_000 - Date.now()));
      const loaded = await load.stop();

      expect(loaded.requests, 'the keep-alive load ran').to.be.above(0);
      expect(loaded.failures, `keep-alive load failures: ${JSON.stringify(loaded.causes)} ${JSON.stringify(loaded.statusCodes)}`).to.equal(0);
      const failed = outcomes.flatMap((outcome, i) => (outcome.status === 200 ? [] : [`${paths[i]} → ${outcome.status}`]));
      expect(failed, 'every request of the mix succeeded').to.deep.equal([]);
      const inTransaction = outcomes.filter((_, i) => paths[i]!.startsWith('/txid')).map((outcome) => outcome.body?.['txid']).filter((txid) => txid !== null);
      expect(inTransaction, 'plain statements that ran inside a transaction that had written').to.deep.equal([]);
      const { rows } = await admin().query('SELECT tag, count(*)::int AS n FROM pcluster_pipeline_items WHERE tag LIKE $1 GROUP BY tag ORDER BY tag', [`${run}-%`]);
      const expected = new Map<string, number>();
      for (const [i, path] of paths.entries()) {
        const tag = new URL(path, 'http://x').searchParams.get('tag');
        if (tag !== null && mix[i % mix.length]!.rowsEach > 0) expected.set(tag, (expected.get(tag) ?? 0) + mix[i % mix.length]!.rowsEach);
      }
      expect(rows, 'every acknowledged write is committed, no rolled-back one').to.deep.equal([...expected].sort(([a], [b]) => a.localeCompare(b)).map(([tag, n]) => ({ tag, n })));

      const { rows: locks } = await admin().query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'");
      expect(locks[0].n, 'no advisory lock left held on a pooled server connection').to.equal(0);
      const terminations = cluster.logs().filter((line) => /orphan/.test(String(line.msg)));
      expect(terminations.map((line) => line.msg), 'the pooler\'s backends are not ours to terminate').to.deep.equal([]);
      const status = await clusterStatus(cluster);
      expect(status.workers.map((w) => w.db.backendPid), 'no backend pid: the pooler\'s key data names none of ours').to.deep.equal([null, null, null]);
      expect(status.budget.server).to.equal(null);
      const metrics = await (await fetch(`${cluster.metricsUrl}/metrics`)).text();
      expect(metricValue(metrics, 'pcluster_db_server_connections'), 'no server-side count behind a pooler').to.equal(undefined);
      expect(metricValue(metrics, 'pcluster_db_connects_total{result="success"}'), 'one connect per worker: none was lost and replaced').to.equal(3);
      expect((await cluster.stop()).code).to.equal(0);
    });

    it('still runs the workers\' start-up database work one worker at a time', async function () {
      this.timeout(120_000);
      const table = `pcluster_boot_${Date.now()}`;
      await admin().query(`CREATE TABLE ${table} (slot int, started timestamptz, ended timestamptz)`);
      try {
        const cluster = await startCluster(fixture('records-setup-times.mjs'), {
          workers: 3, databaseUrl: bouncer().connectionString, args: ['--pooler', 'transaction'], env: { BOOT_TABLE: table },
        });
        const { rows } = await admin().query<{ slot: number; started: Date; ended: Date }>(`SELECT slot, started, ended FROM ${table} ORDER BY started`);
        expect(rows.map((row) => row.slot).sort()).to.deep.equal([1, 2, 3]);
        for (const [i, row] of rows.entries()) {
          if (i > 0) expect(row.started.getTime(), `worker ${row.slot}'s setup began before worker ${rows[i - 1]!.slot}'s ended`).to.be.at.least(rows[i - 1]!.ended.getTime());
        }
        expect((await cluster.stop()).code).to.equal(0);
      } finally {
        await admin().query(`DROP TABLE ${table}`);
      }
    });
  });
});
