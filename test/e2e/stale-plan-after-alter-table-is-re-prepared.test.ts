import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import type pg from 'pg';
import { adminClient } from '../support/database.js';
import { getJson } from '../support/http.js';

const STATEMENT = 'SELECT * FROM pcluster_stale WHERE id = $1';

describe('a prepared statement whose plan went stale after ALTER TABLE (default --prepare auto)', () => {
  let client: pg.Client;
  const admin = (): pg.Client => client;
  before(async () => {
    client = await adminClient();
    await client.query('DROP TABLE IF EXISTS pcluster_stale');
    await client.query("CREATE TABLE pcluster_stale (id int PRIMARY KEY, name text); INSERT INTO pcluster_stale VALUES (1, 'a')");
  });
  after(async () => {
    await client.query('DROP TABLE IF EXISTS pcluster_stale');
    await client.end();
  });

  it('is prepared again and run once more outside a transaction; inside one, the error reaches the app', async () => {
    const cluster = await startCluster(fixture('pipeline-app.mjs'), { workers: 1 });
    const prepared = async (): Promise<string[]> => (await getJson(`${cluster.url}/prepared`)).body['statements'].map((s: { statement: string }) => s.statement);
    for (let i = 0; i < 3; i++) expect(await getJson(`${cluster.url}/stale?id=1`)).to.deep.equal({ status: 200, body: { rows: [{ id: 1, name: 'a' }] } });
    expect(await prepared(), 'the repeated statement is prepared by default').to.include(STATEMENT);

    await admin().query("ALTER TABLE pcluster_stale ADD COLUMN colour text DEFAULT 'red'");
    expect(await getJson(`${cluster.url}/stale?id=1`), 'outside a transaction').to.deep.equal({ status: 200, body: { rows: [{ id: 1, name: 'a', colour: 'red' }] } });
    expect(await prepared(), 'prepared again').to.include(STATEMENT);

    await admin().query('ALTER TABLE pcluster_stale ADD COLUMN size int DEFAULT 7');
    const inTransaction = await getJson(`${cluster.url}/stale-tx?id=1`);
    expect(inTransaction.status).to.equal(200);
    expect(inTransaction.body['error'], 'inside db.transaction the error reaches the app').to.deep.include({ code: '0A000' });
    expect(inTransaction.body['error']['message']).to.match(/cached plan must not change result type/);
    expect(await getJson(`${cluster.url}/stale?id=1`), 'outside a transaction again').to.deep.equal({ status: 200, body: { rows: [{ id: 1, name: 'a', colour: 'red', size: 7 }] } });
    expect((await cluster.stop()).code).to.equal(0);
  });
});
