import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import { useAdminClient, clusterBackends } from '../support/database.js';
import { getJson } from '../support/http.js';
import { waitFor } from '../support/wait-for.js';

describe('pg_terminate_backend on every worker\'s connection', () => {
  const admin = useAdminClient();

  it('costs no later request: the next 20 requests succeed on new connections, workers unchanged', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2 });
    const before = await clusterBackends(admin(), cluster.name);
    const workerPids = new Set<number>();
    for (let i = 0; i < 4; i++) workerPids.add((await getJson(`${cluster.url}/pid`)).body['workerPid']);
    await admin().query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1', [`pcluster:${cluster.name}:%`]);

    const responses = [];
    for (let i = 0; i < 20; i++) responses.push(await getJson(`${cluster.url}/pid`));
    expect(responses.map((r) => r.status)).to.deep.equal(Array(20).fill(200));
    const oldPids = new Set(before.map((b) => b.pid));
    expect(responses.filter((r) => oldPids.has(r.body['backendPid']))).to.have.length(0);
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

  it('a transaction killed mid-query fails its request (never retried: its work is gone), and the next request succeeds', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1 });
    const { body } = await getJson(`${cluster.url}/pid`);
    const tag = `killed-tx-${Date.now()}`;
    const slow = fetch(`${cluster.url}/pg-sleep-tx?ms=5000&tag=${tag}`);
    await terminateWhileRunning(body['backendPid'], '%pg_sleep%');
    const failed = await slow;
    expect(failed.status).to.equal(500);
    expect(await failed.text()).to.equal('Internal Server Error\n');
    const stored = await admin().query('SELECT count(*)::int AS n FROM pcluster_test_items WHERE tag = $1', [tag]);
    expect(stored.rows[0].n, 'the transaction was not replayed').to.equal(0);
    const next = await getJson(`${cluster.url}/pid`);
    expect(next.status).to.equal(200);
    expect(next.body['backendPid']).not.to.equal(body['backendPid']);
    expect(next.body['workerPid']).to.equal(body['workerPid']);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('a single statement the server aborted while terminating the session runs again on the new connection', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1 });
    const { body } = await getJson(`${cluster.url}/pid`);
    const slow = getJson(`${cluster.url}/pg-sleep?ms=1500`);
    await terminateWhileRunning(body['backendPid'], '%pg_sleep%');
    const answered = await slow;
    expect(answered.status).to.equal(200);
    expect(answered.body['pid'], 'it ran on the replacement connection').not.to.equal(body['backendPid']);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
