import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import { clusterBackends, useAdminClient } from '../support/database.js';
import { getJson } from '../support/http.js';
import { clusterStatus } from '../support/status.js';
import { waitFor } from '../support/wait-for.js';

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('workers die with a primary killed by SIGKILL', () => {
  const admin = useAdminClient();
  /** Worker pids of this test: a worker that outlives its primary is nobody's to stop but ours. */
  let workerPids: number[] = [];

  afterEach(() => {
    for (const pid of workerPids.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });

  it('a worker whose event loop is blocked forever dies within seconds, and so does its idle sibling; both backends close', async () => {
    const cluster = await startCluster(fixture('hangs-on-request.mjs'), { workers: 2 });
    const { workers } = await clusterStatus(cluster);
    workerPids = workers.map((w) => w.pid!);
    const backendPids = workers.map((w) => w.db.backendPid);
    expect(backendPids).not.to.include(null);
    const spinning = (await getJson<{ workerPid: number }>(`${cluster.url}/spin`)).body.workerPid;
    expect(workerPids).to.include(spinning);
    process.kill(cluster.pid, 'SIGKILL');
    await cluster.exited;
    await waitFor(() => workerPids.every((pid) => !isAlive(pid)), 5_000, `workers ${workerPids.join(', ')} to exit`);
    await waitFor(async () => (await clusterBackends(admin(), cluster.name)).length === 0, 5_000, 'the workers\' backends to close');
    // The spinning worker was killed by its watchdog; the idle one left on its own when its IPC channel closed.
    await waitFor(() => cluster.stderr.includes(`(pid ${spinning})`), 2_000, 'the watchdog\'s line');
    expect(cluster.stderr).to.match(new RegExp(`pcluster worker ${cluster.name}:\\d \\(pid ${spinning}\\): the primary \\(pid ${cluster.pid}\\) is gone and the event loop is blocked; killing the process`));
    expect(cluster.stderr.match(/killing the process/g)).to.have.length(1);
  });
});
