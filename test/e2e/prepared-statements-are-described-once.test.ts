import { expect } from 'chai';
import pg from 'pg';
import { QueryRunner } from '@pcluster/worker-runtime/internal/query-runner';
import { adminClient } from '../support/database.js';

/**
 * QueryRunner on a real connection: a named statement's result is described by PostgreSQL
 * on its first run only, and every later run returns what a described run returns.
 */
describe('named prepared statements are described once per connection', () => {
  let client: pg.Client;
  /** Messages the server sent on this connection, by protocol message name. */
  let received: Record<'rowDescription' | 'noData', number>;

  beforeEach(async () => {
    client = await adminClient();
    received = { rowDescription: 0, noData: 0 };
    for (const name of ['rowDescription', 'noData'] as const) client.connection.on(name, () => (received[name] += 1));
  });
  afterEach(async () => {
    await client.end();
  });

  const run = (runner: QueryRunner, config: pg.QueryConfig): Promise<pg.QueryResult> =>
    new Promise((resolve, reject) => runner.run(client, config, undefined, (error, result) => (error ? reject(error) : resolve(result as pg.QueryResult))));

  const SELECT = "SELECT $1::int AS id, 'account ' || $1 AS name, ($1::int * 10)::bigint AS balance";

  it('describes a SELECT on its first run only; later runs return the same rows, fields and count', async () => {
    const runner = new QueryRunner('off');
    const first = await run(runner, { name: 'described_select', text: SELECT, values: [1] });
    for (let id = 2; id <= 4; id++) {
      const later = await run(runner, { name: 'described_select', text: SELECT, values: [id] });
      expect(later.rows).to.deep.equal([{ id, name: `account ${id}`, balance: String(id * 10) }]);
      expect(later.fields).to.deep.equal(first.fields);
      expect([later.command, later.rowCount]).to.deep.equal(['SELECT', 1]);
    }
    expect(received.rowDescription, 'one RowDescription for four runs').to.equal(1);
  });

  it('applies each run\'s own rowMode and type parsers to the remembered description', async () => {
    const runner = new QueryRunner('off');
    await run(runner, { name: 'described_modes', text: SELECT, values: [1] });
    const types = { getTypeParser: () => (value: string) => `parsed ${value}` };
    const arrays = await run(runner, { name: 'described_modes', text: SELECT, values: [2], rowMode: 'array', types } as pg.QueryConfig);
    expect(arrays.rows).to.deep.equal([['parsed 2', 'parsed account 2', 'parsed 20']]);
    const objects = await run(runner, { name: 'described_modes', text: SELECT, values: [3] });
    expect(objects.rows).to.deep.equal([{ id: 3, name: 'account 3', balance: '30' }]);
    expect(received.rowDescription).to.equal(1);
  });

  it('binary runs of the same statement are described each time, text runs after them still parse as text', async () => {
    const runner = new QueryRunner('off');
    const text = { name: 'described_binary', text: 'SELECT $1::int AS n' };
    expect((await run(runner, { ...text, values: [1] })).rows).to.deep.equal([{ n: 1 }]);
    const binary = await run(runner, { ...text, values: [2], binary: true } as pg.QueryConfig);
    expect(binary.fields[0]?.format).to.equal('binary');
    expect((await run(runner, { ...text, values: [3] })).rows).to.deep.equal([{ n: 3 }]);
    expect(received.rowDescription, 'the first text run and the binary run').to.equal(2);
  });

  it('describes a statement that returns no rows once, and reports each run\'s row count', async () => {
    const runner = new QueryRunner('off');
    await client.query('CREATE TEMPORARY TABLE described_items (n int)');
    for (let n = 1; n <= 3; n++) {
      const inserted = await run(runner, { name: 'described_insert', text: 'INSERT INTO described_items VALUES ($1), ($1)', values: [n] });
      expect([inserted.command, inserted.rowCount, inserted.rows, inserted.fields]).to.deep.equal(['INSERT', 2, [], []]);
    }
    expect(received.noData, 'one NoData for three runs').to.equal(1);
    expect((await client.query('SELECT count(*)::int AS n FROM described_items')).rows[0].n).to.equal(6);
  });

  it('prepares and describes a statement again after DDL changes its result', async () => {
    const runner = new QueryRunner('off');
    await client.query("CREATE TEMPORARY TABLE described_widgets (id int, name text); INSERT INTO described_widgets VALUES (1, 'a')");
    const config = { name: 'described_widgets', text: 'SELECT * FROM described_widgets WHERE id > $1', values: [0] };
    await run(runner, config);
    await run(runner, config);
    await client.query("ALTER TABLE described_widgets ADD COLUMN colour text DEFAULT 'red'");
    const changed = await run(runner, config);
    expect(changed.rows).to.deep.equal([{ id: 1, name: 'a', colour: 'red' }]);
    expect(changed.fields.map((field) => field.name)).to.deep.equal(['id', 'name', 'colour']);
    expect((await run(runner, config)).rows).to.deep.equal([{ id: 1, name: 'a', colour: 'red' }]);
  });

  for (const when of ['before the statement is prepared', 'after it is prepared'] as const) {
    it(`a value that cannot be sent fails its own run and leaves the statement usable (${when})`, async () => {
      const runner = new QueryRunner('off');
      const config = { name: 'described_unsendable', text: 'SELECT $1::jsonb AS doc' };
      if (when === 'after it is prepared') await run(runner, { ...config, values: [{ a: 1 }] });
      const unsendable = { toPostgres: () => { throw new Error('cannot send this value'); } };
      let failure: unknown;
      await run(runner, { ...config, values: [unsendable] }).catch((error: unknown) => (failure = error));
      expect((failure as Error | undefined)?.message).to.equal('cannot send this value');
      expect((await run(runner, { ...config, values: [{ a: 2 }] })).rows, 'node-postgres had closed the statement: "prepared statement does not exist"').to.deep.equal([{ doc: { a: 2 } }]);
      expect(client.getTransactionStatus()).to.equal('I');
    });
  }

  it('a statement that does not parse, run with a value that cannot be sent: one error, and the connection goes on', async () => {
    const runner = new QueryRunner('off');
    const unsendable = { toPostgres: () => { throw new Error('cannot send this value'); } };
    let failure: unknown;
    await run(runner, { name: 'described_broken', text: 'SELEKT $1', values: [unsendable] }).catch((error: unknown) => (failure = error));
    expect((failure as Error | undefined)?.message).to.equal('cannot send this value');
    expect((await run(runner, { name: 'described_after', text: 'SELECT $1::int AS n', values: [7] })).rows).to.deep.equal([{ n: 7 }]);
  });
});
