import { expect } from 'chai';
import pg from 'pg';
import type { RunningContender } from '@pcluster/benchmarks/dist/contender.js';
import { CONTENDERS, type HttpContender } from '@pcluster/benchmarks/dist/contenders.js';
import { seed } from '@pcluster/benchmarks/dist/seed.js';
import { adminClient } from '../support/database.js';

const DATABASE = 'pcluster_bench_contenders';

interface Row {
  readonly id: number;
  readonly name: string;
  readonly balance: string;
}

// A ratio between two contenders means something only if both do the same work. The floor diagnostic speaks the
// PostgreSQL protocol and HTTP by hand, the pipelined contenders share one connection between concurrent requests:
// their answers are checked against the database and against the one-at-a-time hand-rolled worker, which runs
// node-postgres and node:http, and their backends must be the ones the bench counts.
describe('the benchmark contenders', () => {
  let databaseUrl: string;
  const asAdmin = async (sql: string): Promise<void> => {
    const admin = await adminClient();
    try {
      await admin.query(sql);
    } finally {
      await admin.end();
    }
  };
  before(async () => {
    await asAdmin(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await asAdmin(`CREATE DATABASE ${DATABASE}`);
    const url = new URL(process.env['PCLUSTER_TEST_DATABASE_URL']!);
    url.pathname = `/${DATABASE}`;
    databaseUrl = url.toString();
    await seed(databaseUrl);
  });
  after(() => asAdmin(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`));

  const contender = (id: string): HttpContender => CONTENDERS.find((c): c is HttpContender => c.id === id && c.kind === 'http')!;

  async function serving(id: string, use: (base: string, db: pg.Client, running: RunningContender) => Promise<void>): Promise<void> {
    let running: RunningContender | undefined;
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      running = await contender(id).start({ databaseUrl, workers: 2 });
      await use(`http://127.0.0.1:${running.port}`, db, running);
    } finally {
      await db.end();
      await running?.stop();
    }
  }

  async function pageRows(base: string): Promise<Row[]> {
    const response = await fetch(`${base}/page`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('application/json');
    return (await response.json()) as Row[];
  }

  const count = async (db: pg.Client, sql: string): Promise<number> => Number((await db.query(sql)).rows[0].n);

  it('answer /page with three rows as node-postgres reads them, /write with a committed write, /nodb and a 404, alone and concurrently', async function () {
    this.timeout(120_000);
    const shapes: Record<string, unknown> = {};
    const connections: Record<string, number> = {};
    for (const id of ['hand-rolled', 'floor', 'hand-rolled-pipeline', 'postgresjs-1', 'postgresjs-10']) {
      await serving(id, async (base, db, running) => {
        for (let i = 0; i < 20; i++) {
          const rows = await pageRows(base);
          expect(rows, `${id} /page`).to.have.length(3);
          for (const row of rows) {
            const { rows: stored } = await db.query<Row>('SELECT id, name, balance FROM bench_accounts WHERE id = $1', [row.id]);
            expect(row, `${id} /page row ${row.id}`).to.deep.equal(stored[0]);
          }
          shapes[id] = rows.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value])));
        }
        const history = await count(db, 'SELECT count(*) AS n FROM bench_history');
        const balances = await count(db, 'SELECT sum(balance) AS n FROM bench_accounts');
        // Writes amid pages, as a pipelined contender's connection sees them under load: every write commits once, every page answers.
        const [writes, pages] = await Promise.all([
          Promise.all(Array.from({ length: 20 }, () => fetch(`${base}/write`).then(async (r) => [r.status, await r.text()]))),
          Promise.all(Array.from({ length: 40 }, () => pageRows(base))),
        ]);
        expect(writes, `${id} /write`).to.deep.equal(Array.from({ length: 20 }, () => [200, 'ok']));
        expect(pages.map((rows) => rows.length), `${id} /page amid writes`).to.deep.equal(Array.from({ length: 40 }, () => 3));
        expect(await count(db, 'SELECT count(*) AS n FROM bench_history'), `${id} history rows`).to.equal(history + 20);
        expect(await count(db, 'SELECT sum(balance) AS n FROM bench_accounts'), `${id} balances`).to.equal(balances + 20);
        const nodb = await fetch(`${base}/nodb`);
        expect([nodb.status, await nodb.text()], `${id} /nodb`).to.deep.equal([200, 'ok']);
        expect((await fetch(`${base}/nothing-here`)).status, `${id} unknown route`).to.equal(404);
        connections[id] = await count(db, `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE '${running.applicationName}'`);
      });
    }
    for (const id of ['floor', 'hand-rolled-pipeline', 'postgresjs-1', 'postgresjs-10']) {
      expect(shapes[id], `${id} answers with the types node-postgres gives the hand-rolled worker`).to.deep.equal(shapes['hand-rolled']);
    }
    expect(connections, 'the backends the bench counts by application_name').to.deep.include({ 'hand-rolled-pipeline': 2, 'postgresjs-1': 2 });
    expect(connections['postgresjs-10'], 'Postgres.js max: 10 on 2 workers').to.be.within(2, 20);
  });
});
