import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import { useAdminClient } from '../support/database.js';
import { getJson, metricValue } from '../support/http.js';

describe('a request that leaves a transaction open', () => {
  const admin = useAdminClient();

  it('is rolled back, counted and logged; the next request starts outside a transaction', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1 });
    const tag = `left-open-${Date.now()}`;
    expect((await getJson(`${cluster.url}/leave-open?tag=${tag}`)).status).to.equal(200);

    expect((await getJson(`${cluster.url}/in-transaction`)).body['inTransaction']).to.equal(false);
    expect((await getJson(`${cluster.url}/count?tag=${tag}`)).body['n']).to.equal(0);
    const stored = await admin().query('SELECT count(*)::int AS n FROM pcluster_test_items WHERE tag = $1', [tag]);
    expect(stored.rows[0].n).to.equal(0);
    const idleInTransaction = await admin().query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE $1 AND state LIKE 'idle in transaction%'",
      [`pcluster:${cluster.name}:%`],
    );
    expect(idleInTransaction.rows[0].n).to.equal(0);

    const metrics = await (await fetch(`${cluster.metricsUrl}/metrics`)).text();
    expect(metricValue(metrics, 'pcluster_db_rollbacks_total')).to.equal(1);
    const logged = await cluster.waitForLog((line) => String(line.msg).includes('rolled back'));
    expect(logged['request']).to.equal(`GET /leave-open?tag=${tag}`);
    expect(logged['durationMs']).to.be.a('number');
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('is rolled back too when a statement fails inside it: the error comes before the server says the transaction is open', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1 });
    expect((await getJson(`${cluster.url}/fail-in-transaction`)).body['code']).to.equal('22012');
    const next = await getJson(`${cluster.url}/in-transaction`);
    expect(next.status, 'the next request is not stuck in the failed transaction').to.equal(200);
    expect(next.body['inTransaction']).to.equal(false);
    expect(metricValue(await (await fetch(`${cluster.metricsUrl}/metrics`)).text(), 'pcluster_db_rollbacks_total')).to.equal(1);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
