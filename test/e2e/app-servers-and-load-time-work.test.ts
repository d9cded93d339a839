import { expect } from 'chai';
import { fixture, spawnCluster, startCluster } from '../support/cluster-process.js';
import { clusterBackends, useAdminClient } from '../support/database.js';
import { freePort } from '../support/free-port.js';
import { getJson } from '../support/http.js';
import { requestAll } from '../support/requests.js';

describe('every way an app starts its own server is adopted (SPEC §2)', () => {
  const admin = useAdminClient();
  const servers = [
    { file: 'listens-express4.cjs', via: 'express4' },
    { file: 'listens-koa.mjs', via: 'koa' },
    { file: 'listens-fastify.mjs', via: 'fastify' },
    { file: 'listens-http.cjs', via: 'http' },
  ];
  for (const { file, via } of servers) {
    it(`${via}: ${file} serves on --port from both workers, on their two connections`, async () => {
      const cluster = await startCluster(fixture(file), { workers: 2, env: { APP_PORT: String(await freePort()) } });
      // Several sockets at once, so that node:cluster hands connections to both workers.
      const outcomes = await requestAll(Array.from({ length: 40 }, () => cluster.url), 8);
      expect(outcomes.map((o) => `${o.status} ${o.body?.['via']}`)).to.deep.equal(outcomes.map(() => `200 ${via}`));
      expect(new Set(outcomes.map((o) => o.body?.['pid'])).size).to.equal(2);
      expect(await clusterBackends(admin(), cluster.name)).to.have.length(2);
      expect((await cluster.stop()).code).to.equal(0);
    });
  }
});

describe('database work while the module loads (SPEC §2)', () => {
  const admin = useAdminClient();

  it('top-level await on import { db } runs on the worker\'s connection before it takes traffic', async () => {
    const table = `load_db_${process.pid}`;
    await admin().query(`DROP TABLE IF EXISTS ${table}`);
    const cluster = await startCluster(fixture('load-time-db.mjs'), { workers: 2, env: { DDL_TABLE: table } });
    expect((await getJson(cluster.url)).body).to.deep.equal({ count: 0 });
    expect(cluster.logs().filter((line) => /unhandled/.test(String(line.msg)))).to.deep.equal([]);
    expect((await cluster.stop()).code).to.equal(0);
    await admin().query(`DROP TABLE ${table}`);
  });

  it('exit 3 with the app\'s own error when a query at load fails', async () => {
    const cluster = await spawnCluster(fixture('load-time-db-fails.mjs'), { workers: 2 });
    expect((await cluster.exited).code).to.equal(3);
    expect(cluster.stderr.split('\n')[0]).to.match(/load-time-db-fails\.mjs failed to load: relation "pcluster_no_such_table_at_load" does not exist/);
  });
});
