import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import { useAdminClient, clusterBackends } from '../support/database.js';
import { getJson } from '../support/http.js';

describe('each worker holds exactly one persistent connection', () => {
  const admin = useAdminClient();

  it('3 workers hold 3 connections, and a worker keeps its backend pid across requests', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 3 });
    const backends = await clusterBackends(admin(), cluster.name);
    expect(backends.map((b) => b.application_name)).to.deep.equal([1, 2, 3].map((slot) => `pcluster:${cluster.name}:${slot}`));

    const backendsByWorker = new Map<number, Set<number>>();
    for (let i = 0; i < 60; i++) {
      const { status, body } = await getJson(`${cluster.url}/pid`);
      expect(status).to.equal(200);
      const seen = backendsByWorker.get(body['workerPid']) ?? new Set<number>();
      seen.add(body['backendPid']);
      backendsByWorker.set(body['workerPid'], seen);
    }
    expect(backendsByWorker.size).to.be.within(1, 3);
    for (const pids of backendsByWorker.values()) expect(pids.size).to.equal(1);
    const servedBackends = [...backendsByWorker.values()].flatMap((s) => [...s]);
    expect(backends.map((b) => b.pid)).to.include.members(servedBackends);

    expect(await clusterBackends(admin(), cluster.name)).to.have.length(3);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
