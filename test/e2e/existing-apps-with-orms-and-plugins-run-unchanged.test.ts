import { expect } from 'chai';
import http from 'node:http';
import { useAdminClient } from '../support/database.js';
import { createAppDatabase, databaseBackends, expectAccountsAppRunsUnchanged, startExistingApp } from '../support/existing-app.js';
import { getJson } from '../support/http.js';
import { waitFor } from '../support/wait-for.js';

/** GET on a connection of its own (no keep-alive), so that successive requests may reach either worker. */
function getOnNewConnection(url: string, cookie?: string): Promise<{ status: number; body: Record<string, any>; setCookie: string | undefined }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, headers: cookie === undefined ? {} : { cookie } }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(text), setCookie: response.headers['set-cookie']?.[0]?.split(';')[0] }));
    });
    request.on('error', reject);
  });
}

// An ORM with its own pool of pg clients (Sequelize), a framework plugin that owns the app's pg.Pool
// (@fastify/postgres), and a session store on the app's pool (connect-pg-simple), each unchanged (SPEC §2.1).
describe('existing apps using an ORM or a framework plugin run unchanged on one connection per worker', () => {
  const admin = useAdminClient();

  it('Express + Sequelize, with sequelize.sync() at load and a managed transaction', async function () {
    this.timeout(120_000);
    await expectAccountsAppRunsUnchanged(admin(), 'sequelize-app.cjs');
  });

  it('Fastify 5 + @fastify/postgres, with fastify.pg.transact() and await fastify.listen()', async function () {
    this.timeout(120_000);
    await expectAccountsAppRunsUnchanged(admin(), 'fastify-postgres.cjs');
  });

  it('Express sessions stored through connect-pg-simple on the app\'s pg.Pool survive across requests and workers', async function () {
    this.timeout(60_000);
    const database = await createAppDatabase(admin(), 'express-session-pg');
    try {
      const cluster = await startExistingApp('express-session-pg.cjs', database);
      const workerNames = [1, 2].map((slot) => `pcluster:${cluster.name}:${slot}`);
      expect((await getJson(`${cluster.url}/health`)).body).to.include({ status: 'ok' });

      const first = await getOnNewConnection(`${cluster.url}/visits`);
      expect(first).to.deep.include({ status: 200 });
      expect(first.body['visits']).to.equal(1);
      expect(first.setCookie, 'the session cookie').to.match(/^connect\.sid=/);
      const counts = [first.body['visits']];
      for (let i = 0; i < 9; i++) counts.push((await getOnNewConnection(`${cluster.url}/visits`, first.setCookie)).body['visits']);
      expect(counts, 'one session, counted in the database whichever worker answers').to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect((await getOnNewConnection(`${cluster.url}/visits`)).body['visits'], 'a new visitor').to.equal(1);

      expect((await databaseBackends(admin(), database.name)).map((b) => b.application_name)).to.deep.equal(workerNames);
      expect((await cluster.stop()).code).to.equal(0);
      await waitFor(async () => (await databaseBackends(admin(), database.name)).length === 0, 2_000, `no backend left on ${database.name} after the stop`);
    } finally {
      await database.drop();
    }
  });
});
