import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import { useAdminClient } from '../support/database.js';
import { getJson } from '../support/http.js';

describe('every supported handler module shape serves a request that uses the database', () => {
  const admin = useAdminClient();

  const styles = [
    { file: 'plain-cjs.cjs', style: 'plain-cjs', checksAls: false },
    { file: 'plain-esm.mjs', style: 'plain-esm', checksAls: false },
    { file: 'express-app.mjs', style: 'express', checksAls: true },
    { file: 'koa-app.mjs', style: 'koa', checksAls: true },
    { file: 'fastify-app.mjs', style: 'fastify', checksAls: true },
  ];
  for (const { file, style, checksAls } of styles) {
    it(`${style}: ${file}`, async () => {
      const cluster = await startCluster(fixture(file), { workers: 1 });
      const { status, body } = await getJson(`${cluster.url}/`);
      expect(status).to.equal(200);
      expect(body['style']).to.equal(style);
      expect(body['pid']).to.be.a('number');
      if (checksAls) expect(body['samePid'], 'req.db and import { db } use the same connection').to.equal(true);
      expect((await cluster.stop()).code).to.equal(0);
    });
  }

  it('named handler with setup and teardown, both using the connection', async () => {
    await admin().query('DROP TABLE IF EXISTS pcluster_lifecycle');
    const cluster = await startCluster(fixture('lifecycle.mjs'), { workers: 2 });
    const { body } = await getJson(`${cluster.url}/`);
    expect(body['style']).to.equal('handler');
    const setups = await admin().query("SELECT worker, pid FROM pcluster_lifecycle WHERE event = 'setup' ORDER BY worker");
    expect(setups.rows.map((r) => r.worker)).to.deep.equal([1, 2]);
    expect((await cluster.stop()).code).to.equal(0);
    const teardowns = await admin().query("SELECT worker, pid FROM pcluster_lifecycle WHERE event = 'teardown' ORDER BY worker");
    expect(teardowns.rows).to.deep.equal(setups.rows, 'teardown ran on the same connection as setup, in every worker');
  });
});
