import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import { useAdminClient } from '../support/database.js';
import { getJson } from '../support/http.js';

describe('concurrent requests on one worker share its connection safely', () => {
  const admin = useAdminClient();

  it('50 concurrent requests, 25 in transactions held across an await: transactions are isolated and serialised', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1 });
    const tag = `concurrent-${Date.now()}`;
    const requests = Array.from({ length: 50 }, (_, i) =>
      i % 2 === 0 ? getJson(`${cluster.url}/tx?tag=${tag}&hold=20`) : getJson(`${cluster.url}/page`),
    );
    const responses = await Promise.all(requests);
    expect(responses.map((r) => r.status)).to.deep.equal(Array(50).fill(200));

    // Had two transactions shared the connection, one would have counted the other's uncommitted insert
    // (or a BEGIN would have been ignored); pinned and serialised, the k-th transaction sees exactly k rows.
    const seen = responses.filter((_, i) => i % 2 === 0).map((r) => r.body['seen'] as number);
    expect([...seen].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(responses.filter((_, i) => i % 2 === 1).map((r) => r.body['sum'])).to.deep.equal(Array(25).fill(6));

    const committed = await admin().query('SELECT count(*)::int AS n FROM pcluster_test_items WHERE tag = $1', [tag]);
    expect(committed.rows[0].n).to.equal(25);
    expect((await cluster.stop()).code).to.equal(0);
    expect(cluster.stderr).not.to.match(/DeprecationWarning|already executing a query/);
    expect(cluster.stdout).not.to.match(/DeprecationWarning|already executing a query/);
  });
});
