import { expect } from 'chai';
import { useTempDir } from '../support/temp-dir.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnCluster, startCluster, fixture, type ClusterProcess } from '../support/cluster-process.js';
import { clusterStatus } from '../support/status.js';
import { waitFor } from '../support/wait-for.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const lines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');

/** Watches a running cluster for `ms`: its workers keep their pids, nothing is restarted, recycled or killed. */
async function staysUp(cluster: ClusterProcess, ms: number): Promise<void> {
  const pids = (await clusterStatus(cluster)).workers.map((worker) => worker.pid);
  await sleep(ms);
  const status = await clusterStatus(cluster);
  expect(status.workers.map((worker) => worker.pid), cluster.stdout).to.deep.equal(pids);
  expect(status.workers.map((worker) => worker.restarts)).to.deep.equal(pids.map(() => 0));
  expect(cluster.logs().filter((line) => /SIGKILL|recycling|worker died/.test(String(line.msg))), 'no kill, recycle or death').to.deep.equal([]);
}

describe('durations without a unit are seconds (as gunicorn)', () => {
  const tempDir = useTempDir('pcluster-durations');

  it('--timeout 5 is five seconds: the cluster stays up with 0 restarts', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2, args: ['--timeout', '5'] });
    await staysUp(cluster, 4_000);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('--max-age 3600 is an hour: no worker is recycled within seconds', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2, args: ['--max-age', '3600'] });
    await staysUp(cluster, 5_000);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('a config file\'s numbers are seconds too', async () => {
    const file = path.join(tempDir(), 'pcluster.json');
    writeFileSync(file, JSON.stringify({ timeout: 5, 'max-age': '3600' }));
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2, args: ['--config', file] });
    await staysUp(cluster, 5_000);
    expect((await cluster.stop()).code).to.equal(0);
  });

  const refused: { what: string; args: (dir: string) => string[]; says: RegExp }[] = [
    { what: '--timeout 0.5', args: () => ['--timeout', '0.5'], says: /^pcluster: --timeout: "0\.5" is too short \(a bare number is seconds: 500ms\); use at least 1s$/ },
    { what: '--timeout 500ms', args: () => ['--timeout', '500ms'], says: /^pcluster: --timeout: "500ms" is too short; use at least 1s$/ },
    { what: '--max-age 5', args: () => ['--max-age', '5'], says: /^pcluster: --max-age: "5" is too short \(a bare number is seconds: 5000ms\); use at least 10s$/ },
    {
      what: 'a config file\'s "timeout": 0.5',
      args: (dir) => {
        writeFileSync(path.join(tempDir(), 'short.json'), '{ "timeout": 0.5 }');
        return ['--config', path.join(tempDir(), 'short.json')];
      },
      says: /^pcluster: "timeout" in .*short\.json: 0\.5 is too short \(a bare number is seconds: 500ms\); use at least 1s$/,
    },
  ];
  for (const { what, args, says } of refused) {
    it(`${what} is refused: exit 2, one line naming the setting, the value and the minimum`, async () => {
      const cluster = await spawnCluster(fixture('routes.mjs'), { workers: 2, args: args(tempDir()) });
      expect(await cluster.exitCodeWithin(20_000), cluster.stdout).to.equal(2);
      expect(lines(cluster.stderr), cluster.stderr).to.have.length(1);
      expect(cluster.stderr.trim()).to.match(says);
      expect(cluster.stdout, 'nothing was forked').not.to.match(/worker/);
    });
  }

  it('never says "all workers ready" while the workers cannot answer a heartbeat', async () => {
    const cluster = await spawnCluster(fixture('blocks-at-first-heartbeat.mjs'), { workers: 1, args: ['--timeout', '1'] });
    const killed = (): number => cluster.logs().filter((line) => line.msg === 'worker stopped answering heartbeats; SIGKILL').length;
    await waitFor(() => killed() >= 3, 30_000, 'workers killed for --timeout');
    expect(cluster.logs().filter((line) => line.msg === 'worker ready').length, 'the worker did boot, again and again').to.be.at.least(3);
    expect(cluster.logs().filter((line) => String(line.msg).includes('workers ready')), cluster.stdout).to.deep.equal([]);
  });
});
