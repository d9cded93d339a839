import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { expect } from 'chai';
import { startCluster, fixture, type LogLine } from '../support/cluster-process.js';
import { clusterStatus } from '../support/status.js';
import { waitFor } from '../support/wait-for.js';

/** The soft open-file limit of process `pid`, read or set with util-linux prlimit (no privileges needed to lower it or raise it back). */
function softNofile(pid: number, set?: number): number {
  if (set !== undefined) execFileSync('prlimit', ['--pid', String(pid), `--nofile=${set}:`]);
  return Number(execFileSync('prlimit', ['--pid', String(pid), '--nofile', '--output', 'SOFT', '--noheadings'], { encoding: 'utf8' }).trim());
}

describe('a worker process the operating system refuses to fork', () => {
  it('is retried with a growing delay and a line naming the errno and the fix; the slot fills once the limit is raised', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2 });
    const primaryPid = cluster.child.pid!;
    const [victim] = (await clusterStatus(cluster)).workers;
    const limit = softNofile(primaryPid);
    // Below what the primary has open: no new descriptor at all, so the fork's IPC socket pair fails with EMFILE.
    softNofile(primaryPid, readdirSync(`/proc/${primaryPid}/fd`).length - 2);
    try {
      process.kill(victim!.pid!, 'SIGKILL');
      const refusals = (): LogLine[] => cluster.logs().filter((line) => line.msg === 'could not start a worker process; retrying');
      await waitFor(() => refusals().length >= 3, 20_000, 'three refused forks to be logged');
      for (const line of refusals()) {
        expect(line['worker']).to.equal(victim!.slot);
        expect(line['error']).to.be.a('string').and.include('(EMFILE)').and.include('ulimit -n');
      }
      const delays = refusals().map((line) => line['respawnInMs'] as number);
      for (let i = 1; i < delays.length; i++) expect(delays[i]!, `delays ${delays.join(', ')}`).to.be.greaterThan(delays[i - 1]!);
      expect(cluster.isRunning, 'the primary lives on').to.equal(true);
    } finally {
      softNofile(primaryPid, limit);
    }
    const readyInSlot = (): number => cluster.logs().filter((line) => line.msg === 'worker ready' && line['worker'] === victim!.slot).length;
    await waitFor(() => readyInSlot() === 2, 30_000, 'the slot to fill once forks are possible again');
    const status = await clusterStatus(cluster);
    expect(status.workers.map((w) => w.state)).to.deep.equal(['ready', 'ready']);
    expect(status.budget.held).to.equal(2);
    expect((await cluster.stop('SIGTERM', 20_000)).code, 'a refused fork leaves nothing the stop waits for').to.equal(0);
  });
});
