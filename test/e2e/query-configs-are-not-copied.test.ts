import { expect } from 'chai';
import pg from 'pg';
import { QueryRunner } from '@pcluster/worker-runtime/internal/query-runner';
import { adminClient } from '../support/database.js';
import { runPlanned } from '../support/run-planned.js';

/**
 * node-postgres 8.23 copies every query config object it is handed through
 * Object.getOwnPropertyDescriptors and Object.defineProperties before reading it, a slow path
 * that costs 1.1–1.6 µs a Query here against 0.06 µs without it (measured with the bench's lab tools); handed SQL text and values, it
 * does not. QueryRunner on a real connection: statements given as text (what `db.query(text,
 * values)`, BEGIN and COMMIT are) reach node-postgres as text, named or not, and a config with
 * more in it than name, text and values still gets all of it.
 */
describe('queries given as SQL text reach node-postgres without a config object to copy', () => {
  let client: pg.Client;
  let copies = 0;
  const original = Object.getOwnPropertyDescriptors;
  beforeEach(async () => {
    client = await adminClient({ pipeline: true });
    copies = 0;
    Object.getOwnPropertyDescriptors = ((target: object) => {
      copies += 1;
      return original(target);
    }) as typeof Object.getOwnPropertyDescriptors;
  });
  afterEach(async () => {
    Object.getOwnPropertyDescriptors = original;
    await client.end();
  });

  const run = (runner: QueryRunner, query: pg.QueryConfig | string, values?: unknown[]): Promise<pg.QueryResult> => runPlanned(runner, client, query, values);

  for (const prepare of ['off', 'auto'] as const) {
    it(`--prepare ${prepare}: text with values, text without, and a transaction's BEGIN and COMMIT`, async () => {
      const runner = new QueryRunner(prepare);
      await run(runner, 'BEGIN');
      for (let i = 1; i <= 3; i++) {
        const { rows } = await run(runner, 'SELECT $1::int AS n, $2::text AS t', [i, 'x']);
        expect(rows).to.deep.equal([{ n: i, t: 'x' }]);
      }
      expect((await run(runner, 'SELECT 1 AS one')).rows).to.deep.equal([{ one: 1 }]);
      await run(runner, 'COMMIT');
      const { rows } = await run(runner, 'SELECT count(*)::int AS prepared FROM pg_prepared_statements');
      // Under auto the repeated text became a named statement on its second run; the copy counts were taken meanwhile.
      expect(rows[0].prepared).to.equal(prepare === 'auto' ? 1 : 0);
      expect(copies, 'node-postgres copied a query config').to.equal(0);
    });
  }

  it('a config of text and values, or of name, text and values, runs without a copy; the named one prepared under its name', async () => {
    const runner = new QueryRunner('off');
    expect((await run(runner, { text: 'SELECT $1::int AS n', values: [6] })).rows).to.deep.equal([{ n: 6 }]);
    expect((await run(runner, { text: 'SELECT 5 AS n' })).rows).to.deep.equal([{ n: 5 }]);
    expect((await run(runner, { text: 'SELECT $1::int AS n' }, [4])).rows).to.deep.equal([{ n: 4 }]);
    const config = { name: 'not_copied', text: 'SELECT $1::int AS n', values: [7] };
    expect((await run(runner, config)).rows).to.deep.equal([{ n: 7 }]);
    expect((await run(runner, config)).rows).to.deep.equal([{ n: 7 }]);
    expect(copies).to.equal(0);
    const { rows } = await run(runner, 'SELECT name FROM pg_prepared_statements');
    expect(rows).to.deep.equal([{ name: 'not_copied' }]);
  });

  it('a config with rowMode or types keeps them, named or not', async () => {
    const runner = new QueryRunner('off');
    const types = { getTypeParser: () => (value: string) => `#${value}` };
    for (const name of [undefined, 'with_options']) {
      const arrays = await run(runner, { name, text: 'SELECT $1::int AS n, 2 AS m', values: [1], rowMode: 'array' } as pg.QueryConfig);
      expect(arrays.rows).to.deep.equal([[1, 2]]);
      const typed = await run(runner, { name: name && `${name}_typed`, text: 'SELECT $1::int AS n', values: [3], types } as pg.QueryConfig);
      expect(typed.rows).to.deep.equal([{ n: '#3' }]);
    }
  });
});
