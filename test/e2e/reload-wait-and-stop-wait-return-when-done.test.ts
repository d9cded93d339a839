import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { CLI, REPO_ROOT, fixture, startCluster } from '../support/cluster-process.js';
import { clusterBackends, useAdminClient } from '../support/database.js';
import { metricValue } from '../support/http.js';
import { clusterStatus } from '../support/status.js';

const pcluster = (...args: string[]): Promise<{ stdout: string; stderr: string }> => promisify(execFile)(process.execPath, [CLI, ...args], { cwd: REPO_ROOT });

/** True when `pid` has exited: no such process, or a zombie its parent (this test) has not reaped yet. */
function hasExited(pid: number): boolean {
  try {
    return /^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('reload --wait and stop --wait', () => {
  const admin = useAdminClient();

  it('reload --wait returns once every worker runs the new generation, stop --wait once the primary has exited', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2 });
    const { stdout } = await pcluster('reload', '--wait', '--name', cluster.name);
    expect(stdout.trim()).to.equal('reload done: 2 workers at generation 2');
    const status = await clusterStatus(cluster);
    expect(status.workers.map((w) => [w.slot, w.state, w.generation]), 'no generation-1 worker left, not even draining').to.deep.equal([[1, 'ready', 2], [2, 'ready', 2]]);
    expect(status.reload).to.include({ generation: 2, state: 'done', workers: 2, booted: 2, failed: 0, lastError: null });
    expect((await pcluster('status', '--name', cluster.name)).stdout.split('\n')[1], 'no reload line once done').to.match(/^slot\s+pid/);
    const metrics = await (await fetch(`${cluster.metricsUrl}/metrics`)).text();
    expect(metricValue(metrics, 'pcluster_worker_boot_failures_total')).to.equal(0);

    const stop = await pcluster('stop', '--wait', '--name', cluster.name);
    expect(stop.stdout.trim()).to.equal('stopped');
    expect(hasExited(cluster.pid), 'the primary has exited when stop --wait returns').to.equal(true);
    expect(await clusterBackends(admin(), cluster.name), 'no connection left').to.have.length(0);
    expect((await cluster.exited).code).to.equal(0);
  });
});
