import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import { useAdminClient, clusterBackends, terminateBackends } from '../support/database.js';
import { getJson } from '../support/http.js';
import { waitFor } from '../support/wait-for.js';

describe('pg_terminate_backend on every worker\'s connection', () => {
  const admin = useAdminClient();

  it('costs no later request: the next 20 requests succeed on new connections, workers unchanged', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2 });
    const before = await clusterBackends(admin(), cluster.name);
    const workerPids = new Set<number>();
    for (let i = 0; i < 4; i++) workerPids.add((await getJson(`${cluster.url}/pid`)).body['workerPid']);
    // Later requests: the ones after the backends are gone (a statement written before a backend acts on the signal fails with it).
    const oldPids = before.map((b) => b.pid);
    await terminateBackends(admin(), oldPids);

    const responses = [];
    for (let i = 0; i < 20; i++) responses.push(await getJson(`${cluster.url}/pid`));
    expect(responses.map((r) => r.status)).to.deep.equal(Array(20).fill(200));
    expect(responses.filter((r) => oldPids.includes(r.body['backendPid']))).to.have.length(0);
    for (const r of responses) expect(workerPids).to.include(r.body['workerPid']);

    const after = await clusterBackends(admin(), cluster.name);
    expect(after).to.have.length(2);
    const metrics = await (await fetch(`${cluster.metricsUrl}/metrics`)).text();
    expect(metrics).to.match(/pcluster_db_connects_total\{result="success"\} 4\b/);
    expect((await cluster.stop()).code).to.equal(0);
  });

  async function terminateWhileRunning(backendPid: number, queryPattern: string): Promise<void> {
    await waitFor(async () => {
      const { rows } = await admin().query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1 AND query LIKE $2 AND state = 'active'", [backendPid, queryPattern]);
      return rows[0].n === 1;
    }, 10_000, 'the slow statement to be running');
    await admin().query('SELECT pg_terminate_backend($1)', [backendPid]);
  }

  // SPEC §3: a dying connection fails every statement in flight on it; none is retried, in a transaction or not.
  for (const { what, route } of [{ what: 'a transaction', route: 'pg-sleep-tx' }, { what: 'a single statement', route: 'pg-sleep' }]) {
    it(`${what} killed mid-query fails its request (never retried: its work is gone), and the next request succeeds`, async () => {
      const cluster = await startCluster(fixture('routes.mjs'), { workers: 1 });
      const { body } = await getJson(`${cluster.url}/pid`);
      const tag = `killed-${route}-${Date.now()}`;
      const slow = fetch(`${cluster.url}/${route}?ms=5000&tag=${tag}`);
      await terminateWhileRunning(body['backendPid'], '%pg_sleep%');
      const failed = await slow;
      expect(failed.status, 'it was not run again on the replacement connection').to.equal(500);
      expect(await failed.text()).to.equal('Internal Server Error\n');
      const stored = await admin().query('SELECT count(*)::int AS n FROM pcluster_test_items WHERE tag = $1', [tag]);
      expect(stored.rows[0].n, 'its work was not replayed').to.equal(0);
      const next = await getJson(`${cluster.url}/pid`);
      expect(next.status).to.equal(200);
      expect(next.body['backendPid']).not.to.equal(body['backendPid']);
      expect(next.body['workerPid']).to.equal(body['workerPid']);
      expect((await cluster.stop()).code).to.equal(0);
    });
  }
});
