import { expect } from 'chai';
import pg from 'pg';
import type { RunningContender } from '@pcluster/benchmarks/dist/contender.js';
import { CONTENDERS, type HttpContender } from '@pcluster/benchmarks/dist/contenders.js';
import { seed } from '@pcluster/benchmarks/dist/seed.js';
import { adminClient } from '../support/database.js';

const DATABASE = 'pcluster_bench_floor';

interface Row {
  readonly id: number;
  readonly name: string;
  readonly balance: string;
}

// The floor diagnostic (benchmarks/apps/floor.mjs) speaks the PostgreSQL protocol and HTTP by hand. What RESULTS.md
// concludes from its rate holds only if it does the same work as the others: these are its answers checked
// against the database and against the hand-rolled ceiling, which runs node-postgres and node:http.
describe('the benchmark floor diagnostic', () => {
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

  async function serving(id: string, use: (base: string, db: pg.Client) => Promise<void>): Promise<void> {
    let running: RunningContender | undefined;
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      running = await contender(id).start({ databaseUrl, workers: 2 });
      await use(`http://127.0.0.1:${running.port}`, db);
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

  it('answers /page with three rows as node-postgres reads them, /write with a committed write, /nodb and a 404 as the ceiling does', async function () {
    this.timeout(60_000);
    const shapes: Record<string, unknown> = {};
    for (const id of ['hand-rolled', 'floor']) {
      await serving(id, async (base, db) => {
        for (let i = 0; i < 20; i++) {
          const rows = await pageRows(base);
          expect(rows, `${id} /page`).to.have.length(3);
          for (const row of rows) {
            const { rows: stored } = await db.query<Row>('SELECT id, name, balance FROM bench_accounts WHERE id = $1', [row.id]);
            expect(row, `${id} /page row ${row.id}`).to.deep.equal(stored[0]);
          }
          shapes[id] = rows.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value])));
        }
        const before = Number((await db.query('SELECT count(*) FROM bench_history')).rows[0].count);
        const sumBefore = Number((await db.query('SELECT sum(balance) FROM bench_accounts')).rows[0].sum);
        const writes = await Promise.all(Array.from({ length: 10 }, () => fetch(`${base}/write`).then(async (r) => [r.status, await r.text()])));
        expect(writes, `${id} /write`).to.deep.equal(Array.from({ length: 10 }, () => [200, 'ok']));
        expect(Number((await db.query('SELECT count(*) FROM bench_history')).rows[0].count), `${id} history rows`).to.equal(before + 10);
        expect(Number((await db.query('SELECT sum(balance) FROM bench_accounts')).rows[0].sum), `${id} balances`).to.equal(sumBefore + 10);
        const nodb = await fetch(`${base}/nodb`);
        expect([nodb.status, await nodb.text()], `${id} /nodb`).to.deep.equal([200, 'ok']);
        expect((await fetch(`${base}/nothing-here`)).status, `${id} unknown route`).to.equal(404);
      });
    }
    expect(shapes['floor'], 'the floor answers with the types node-postgres gives the ceiling').to.deep.equal(shapes['hand-rolled']);
  });
});
