import { expect } from 'chai';
import pg from 'pg';
import { QueryRunner } from '@pcluster/worker-runtime/internal/query-runner';
import { adminClient } from '../support/database.js';
import { runPlanned } from '../support/run-planned.js';

/**
 * QueryRunner on a real connection, watching what the server sends: a named statement's
 * columns are described once per connection, by the run that parses it; later runs get the
 * same rows and fields without the server building, or the worker parsing, a RowDescription.
 */
describe('a named prepared statement is described once per connection', () => {
  let admin: pg.Client;
  let client: pg.Client;
  let received: Map<string, number>;
  before(async () => {
    admin = await adminClient();
    await admin.query('DROP TABLE IF EXISTS pcluster_described');
    await admin.query("CREATE TABLE pcluster_described (id int PRIMARY KEY, name text); INSERT INTO pcluster_described VALUES (1, 'a'), (2, 'b')");
  });
  after(async () => {
    await admin.query('DROP TABLE IF EXISTS pcluster_described');
    await admin.end();
  });
  /** A new connection, and counts of the messages the server sends on it. */
  const connect = async (): Promise<void> => {
    client = await adminClient({ pipeline: true });
    received = new Map();
    // node-postgres emits every message it parses as 'message' once someone listens.
    client.connection.on('message', (message: { name: string }) => received.set(message.name, (received.get(message.name) ?? 0) + 1));
  };
  beforeEach(async () => {
    await connect();
  });
  afterEach(async () => {
    await client.end();
  });

  const run = (runner: QueryRunner, query: pg.QueryConfig | string, values?: unknown[]): Promise<pg.QueryResult> => runPlanned(runner, client, query, values);
  const described = (): number => (received.get('rowDescription') ?? 0) + (received.get('noData') ?? 0);
  const columns = (result: pg.QueryResult): [string, number][] => result.fields.map((field) => [field.name, field.dataTypeID]);

  it('later runs return the same rows and fields without a RowDescription from the server', async () => {
    const runner = new QueryRunner('off');
    const byId = { name: 'described_by_id', text: 'SELECT id, name FROM pcluster_described WHERE id = $1' };
    const first = await run(runner, { ...byId, values: [1] });
    expect(described()).to.equal(1);
    for (const id of [2, 1, 2]) {
      const later = await run(runner, { ...byId, values: [id] });
      expect(later.rows).to.deep.equal([{ id, name: id === 1 ? 'a' : 'b' }]);
      expect(columns(later)).to.deep.equal(columns(first)).and.deep.equal([['id', 23], ['name', 25]]);
    }
    expect(described(), 'every run asked the server to describe the same columns again').to.equal(1);
    expect(received.get('dataRow')).to.equal(4);
  });

  it('a statement that returns no rows, a query-level type parser and a caller changing result.fields all keep working', async () => {
    const runner = new QueryRunner('off');
    const bump = { name: 'described_bump', text: 'UPDATE pcluster_described SET name = name WHERE id = $1' };
    for (let i = 0; i < 3; i++) expect((await run(runner, { ...bump, values: [1] })).rowCount).to.equal(1);
    expect(received.get('noData'), 'described once: no columns').to.equal(1);

    const byId = { name: 'described_typed', text: 'SELECT id FROM pcluster_described WHERE id = $1' };
    const first = await run(runner, { ...byId, values: [1] });
    first.fields.pop();
    const types = { getTypeParser: () => (value: string) => `#${value}` };
    const typed = await run(runner, { ...byId, values: [2], types } as pg.QueryConfig);
    expect(typed.rows, 'the query-level parser applies on a run that was not described').to.deep.equal([{ id: '#2' }]);
    expect(columns(typed)).to.deep.equal([['id', 23]]);
    expect(described()).to.equal(2);
  });

  it('is described again after DDL changes its columns, on a new connection, and on every binary run', async () => {
    const runner = new QueryRunner('auto');
    const all = 'SELECT * FROM pcluster_described WHERE id = $1';
    for (let i = 0; i < 3; i++) await run(runner, all, [1]);
    expect(described(), 'run once unnamed, then parsed under its --prepare auto name').to.equal(2);
    try {
      await admin.query("ALTER TABLE pcluster_described ADD COLUMN colour text DEFAULT 'red'");
      const changed = await run(runner, all, [1]);
      expect(changed.rows).to.deep.equal([{ id: 1, name: 'a', colour: 'red' }]);
      expect((await run(runner, all, [2])).rows).to.deep.equal([{ id: 2, name: 'b', colour: 'red' }]);
      expect(described(), 'the stale plan is prepared and described again, once').to.equal(3);
    } finally {
      await admin.query('ALTER TABLE pcluster_described DROP COLUMN IF EXISTS colour');
    }

    const binary = { name: 'described_binary', text: 'SELECT id FROM pcluster_described WHERE id = $1', binary: true };
    for (let i = 0; i < 2; i++) expect((await run(runner, { ...binary, values: [1] })).rows).to.deep.equal([{ id: 1 }]);
    expect(described(), 'binary columns come described in their own format: always asked for').to.equal(5);

    await client.end();
    await connect();
    const fresh = await run(new QueryRunner('off'), { name: 'described_by_id', text: 'SELECT id, name FROM pcluster_described WHERE id = $1', values: [2] });
    expect(fresh.rows).to.deep.equal([{ id: 2, name: 'b' }]);
    expect(described(), 'a new connection has its own statements').to.equal(1);
  });
});
