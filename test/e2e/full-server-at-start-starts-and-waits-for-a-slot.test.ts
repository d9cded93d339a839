import { expect } from 'chai';
import pg from 'pg';
import { startPostgres } from 'pcluster/postgres';
import { fixture, spawnCluster } from '../support/cluster-process.js';
import { metricValue } from '../support/http.js';
import { clusterStatus } from '../support/status.js';
import { waitFor } from '../support/wait-for.js';

describe('a server already at max_connections at start (SPEC §6)', () => {
  it('starts anyway: /readyz 503 while its worker waits for a server slot, ready once one frees, never exit 4', async () => {
    const server = await startPostgres({ maxConnections: 5 });
    const fillers: pg.Client[] = [];
    try {
      // max_connections 5 minus 3 superuser-reserved slots: two connections of an ordinary role fill it.
      const setup = new pg.Client({ connectionString: server.connectionString });
      await setup.connect();
      await setup.query(`CREATE ROLE app_user LOGIN PASSWORD ${pg.escapeLiteral(server.password)}`);
      await setup.end();
      const url = new URL(server.connectionString);
      url.username = 'app_user';
      const appUrl = url.toString();
      for (let i = 0; i < 2; i++) {
        const client = new pg.Client({ connectionString: appUrl });
        client.on('error', () => {});
        await client.connect();
        fillers.push(client);
      }
      const cluster = await spawnCluster(fixture('plain-esm.mjs'), { workers: 1, databaseUrl: appUrl });
      await waitFor(async () => (await clusterStatus(cluster).catch(() => undefined))?.workers[0]?.db.state === 'waiting', 30_000, 'the worker to wait for a slot');
      expect((await fetch(`${cluster.metricsUrl}/readyz`)).status).to.equal(503);
      expect((await cluster.exitCodeWithin(3_000)), 'still running, no exit 4').to.equal(null);
      expect(metricValue(await (await fetch(`${cluster.metricsUrl}/metrics`)).text(), 'pcluster_db_connects_total{result="limit"}')).to.be.at.least(1);

      await fillers.pop()!.end();
      await cluster.waitForLog((line) => String(line.msg).includes('workers ready'), 30_000);
      expect((await fetch(`${cluster.metricsUrl}/readyz`)).status).to.equal(200);
      expect((await fetch(cluster.url)).status).to.equal(200);
      expect((await cluster.stop()).code).to.equal(0);
    } finally {
      await Promise.all(fillers.map((c) => c.end().catch(() => {})));
      await server.destroy();
    }
  });
});
