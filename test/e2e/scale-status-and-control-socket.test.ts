import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLI, REPO_ROOT, spawnCluster, startCluster, fixture, type ClusterProcess } from '../support/cluster-process.js';
import { useAdminClient, clusterBackends } from '../support/database.js';
import { clusterStatus } from '../support/status.js';
import { waitFor } from '../support/wait-for.js';

const pcluster = (...args: string[]): Promise<{ stdout: string; stderr: string }> => promisify(execFile)(process.execPath, [CLI, ...args], { cwd: REPO_ROOT });
const readyCount = async (cluster: ClusterProcess): Promise<number> => (await clusterStatus(cluster)).workers.filter((w) => w.state === 'ready').length;

describe('operating a running cluster', () => {
  const admin = useAdminClient();

  it('pcluster scale and SIGTTIN/SIGTTOU change the worker count, and the connections follow', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1 });
    expect((await pcluster('scale', '3', '--name', cluster.name)).stdout).to.match(/scaling to 3 workers/);
    await waitFor(async () => (await readyCount(cluster)) === 3, 30_000, '3 ready workers');
    expect(await clusterBackends(admin(), cluster.name)).to.have.length(3);

    cluster.child.kill('SIGTTOU');
    await waitFor(async () => (await clusterStatus(cluster)).workers.length === 2, 30_000, 'scale down to 2');
    await waitFor(async () => (await clusterBackends(admin(), cluster.name)).length === 2, 10_000, '2 connections');
    cluster.child.kill('SIGTTIN');
    await waitFor(async () => (await readyCount(cluster)) === 3, 30_000, 'back to 3');

    // More workers than the server has connections for is refused, as it is at start (no fork storm of workers that cannot connect).
    const tooMany = await pcluster('scale', '1000', '--name', cluster.name).then(() => undefined, (error: { code: number; stderr: string }) => error);
    expect(tooMany?.code).to.equal(1);
    expect(tooMany?.stderr).to.match(
      /cannot scale to 1000 workers: they need 1001 connections and PostgreSQL at \S+ can give \(max_connections \d+ minus \d+ reserved = (\d+)\); scale to at most \d+, or raise max_connections/,
    );
    expect((await clusterStatus(cluster)).workers).to.have.length(3);

    const metrics = await (await fetch(`${cluster.metricsUrl}/metrics`)).text();
    expect(metrics).to.match(/pcluster_worker_restarts_total\{reason="scale"\} 1\b/);
    expect(metrics).to.match(/pcluster_db_connections_max 4\b/);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('pcluster status prints a table, --json the same data as /status', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2 });
    await fetch(`${cluster.url}/pid`).then((r) => r.text());
    const table = (await pcluster('status', '--name', cluster.name)).stdout;
    expect(table).to.match(/: 2 workers, 2 serving \(ready, database open\), connection budget 2\/3$/m);
    expect(table.split('\n')[1]).to.match(/^slot\s+pid\s+state\s+gen\s+uptime\s+requests\s+memory\s+db\s+backend\s+restarts\s+last restart$/);
    // SPEC §4's word for a worker's connection state is open (as pcluster_db_connections{state="open"}).
    expect(table.split('\n').filter((line) => /^\d+\s+\d+\s+ready\s+1\s.*\sopen\s+\d+\s+0\s+-$/.test(line))).to.have.length(2);

    const json = JSON.parse((await pcluster('status', '--json', '--name', cluster.name)).stdout);
    expect(json.name).to.equal(cluster.name);
    expect(json.budget).to.include({ maxConnections: 3, held: 2 });
    expect(json.workers).to.have.length(2);
    for (const worker of json.workers) {
      expect(worker).to.include.keys('slot', 'pid', 'state', 'generation', 'uptimeSeconds', 'requests', 'rssBytes', 'restarts', 'lastRestartReason', 'db');
      expect(worker.db.state).to.equal('open');
      expect(worker.db.backendPid).to.be.a('number');
      expect(Date.parse(worker.db.lastValidatedAt)).to.be.a('number').and.not.NaN;
    }
    const fromHttp = await clusterStatus(cluster);
    expect(fromHttp.workers.map((w) => [w.slot, w.pid])).to.deep.equal(json.workers.map((w: { slot: number; pid: number }) => [w.slot, w.pid]));
    expect(fromHttp.workers.map((w) => w.db.state)).to.deep.equal(['open', 'open']);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('the control socket is 0600; pcluster stop stops gracefully; a second start with the same name is refused', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1 });
    const socketPath = path.join(REPO_ROOT, '.pcluster', `${cluster.name}.sock`);
    expect(statSync(socketPath).mode & 0o777).to.equal(0o600);

    const second = await spawnCluster(fixture('routes.mjs'), { workers: 1, name: cluster.name });
    expect((await second.exited).code).to.equal(2);
    expect(second.stderr).to.match(/another pcluster with this name is running/);

    expect((await pcluster('stop', '--name', cluster.name)).stdout).to.match(/stopping/);
    expect((await cluster.exited).code).to.equal(0);
    expect(await clusterBackends(admin(), cluster.name)).to.have.length(0);
  });

  it('commands without a running cluster, and scale to a bad count, fail with one line', async () => {
    const failure = await pcluster('status', '--name', 'nobody-runs-this').then(() => undefined, (error: { code: number; stderr: string }) => error);
    expect(failure?.code).to.equal(1);
    expect(failure?.stderr).to.match(/^pcluster: cannot reach the control socket .*nobody-runs-this\.sock: no pcluster is running there/);
    const badScale = await pcluster('scale', 'zero', '--name', 'x').then(() => undefined, (error: { code: number; stderr: string }) => error);
    expect(badScale?.code).to.equal(2);
  });

});
