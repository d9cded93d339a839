import { expect } from 'chai';
import type pg from 'pg';
import { startCluster, fixture } from '../support/cluster-process.js';
import { adminClient } from '../support/database.js';
import { getJson } from '../support/http.js';

describe('--prepare auto', () => {
  let admin: pg.Client;
  before(async () => {
    admin = await adminClient();
    await admin.query('DROP TABLE IF EXISTS pcluster_widgets');
    await admin.query("CREATE TABLE pcluster_widgets (id int PRIMARY KEY, name text); INSERT INTO pcluster_widgets VALUES (1, 'a')");
  });
  after(async () => {
    await admin.query('DROP TABLE IF EXISTS pcluster_widgets');
    await admin.end();
  });

  it('turns a repeated parameterised query into a prepared statement, and re-prepares it after DDL changes its result type', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1, args: ['--prepare', 'auto'] });
    const preparedBefore = (await getJson(`${cluster.url}/prepared-count`)).body['n'];
    for (let i = 0; i < 3; i++) expect((await getJson(`${cluster.url}/widgets`)).body['rows']).to.deep.equal([{ id: 1, name: 'a' }]);
    const preparedAfter = (await getJson(`${cluster.url}/prepared-count`)).body['n'];
    expect(preparedAfter - preparedBefore, 'the repeated /widgets query is now a prepared statement').to.be.at.least(1);

    await admin.query("ALTER TABLE pcluster_widgets ADD COLUMN colour text DEFAULT 'red'");
    const changed = await getJson(`${cluster.url}/widgets`);
    expect(changed.status, 'a stale cached plan is prepared again, not a 500').to.equal(200);
    expect(changed.body['rows']).to.deep.equal([{ id: 1, name: 'a', colour: 'red' }]);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('a value that cannot be sent fails only its own request: the prepared statement keeps working', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1, args: ['--prepare', 'auto'] });
    let rows: unknown;
    for (let i = 0; i < 3; i++) rows = (await getJson(`${cluster.url}/widgets`)).body['rows'];
    expect(rows).to.have.length(1);
    expect((await fetch(`${cluster.url}/widgets-unsendable`)).status, 'the handler failed: a bare 500').to.equal(500);
    for (let i = 0; i < 3; i++) {
      const after = await getJson(`${cluster.url}/widgets`);
      expect(after.status, 'node-postgres closed the statement on the server and then failed every later run of it').to.equal(200);
      expect(after.body['rows']).to.deep.equal(rows);
    }
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('with --prepare off, the same queries leave no prepared statement behind', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1, args: ['--prepare', 'off'] });
    for (let i = 0; i < 3; i++) await getJson(`${cluster.url}/widgets`);
    expect((await getJson(`${cluster.url}/prepared-count`)).body['n']).to.equal(0);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
