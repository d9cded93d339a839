import { expect } from 'chai';
import { spawnCluster, startCluster, fixture } from '../support/cluster-process.js';
import { getJson } from '../support/http.js';
import { clusterStatus } from '../support/status.js';
import { waitFor } from '../support/wait-for.js';

describe('a worker that crashes', () => {
  it('is replaced at once; the other worker keeps serving; restarts are counted with reason crash', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2 });
    const [victim, survivor] = (await clusterStatus(cluster)).workers;
    process.kill(victim!.pid!, 'SIGKILL');
    // A connection the primary handed to the victim in the instant it died was in flight on it; the requests
    // that count are those made once the primary has seen the death.
    await waitFor(() => cluster.logs().some((line) => line.msg === 'worker died; replacing it'), 10_000, 'the primary to see the death');
    for (let i = 0; i < 10; i++) expect((await getJson(`${cluster.url}/pid`, { signal: AbortSignal.timeout(5_000) })).status).to.equal(200);
    await waitFor(async () => {
      const slot = (await clusterStatus(cluster)).workers.find((w) => w.slot === victim!.slot);
      return slot !== undefined && slot.pid !== victim!.pid && slot.state === 'ready';
    }, 20_000, 'the replacement');
    const status = await clusterStatus(cluster);
    const replaced = status.workers.find((w) => w.slot === victim!.slot)!;
    expect(replaced.restarts).to.equal(1);
    expect(replaced.lastRestartReason).to.equal('crash');
    expect(status.workers.find((w) => w.slot === survivor!.slot)!.pid, 'the other worker was untouched').to.equal(survivor!.pid);
    expect(status.budget.held).to.equal(2);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('during start-up, without a boot failure of its own (OOM-killed, killed by hand), is replaced and the cluster comes up', async () => {
    const cluster = await spawnCluster(fixture('routes.mjs'), { workers: 2, env: { PCLUSTER_LOG_LEVEL: 'debug' } });
    const forked = await cluster.waitForLog((line) => line.msg === 'worker forked', 20_000);
    process.kill(forked['workerPid'] as number, 'SIGKILL');
    await cluster.waitForLog((line) => typeof line.msg === 'string' && line.msg.startsWith('all 2 workers ready'), 30_000);
    const status = await clusterStatus(cluster);
    expect(status.workers.map((w) => w.state)).to.deep.equal(['ready', 'ready']);
    expect(status.workers.map((w) => w.pid)).not.to.include(forked['workerPid']);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('killed again and again after it was ready is replaced at once each time: a kill is no boot failure', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1, env: { PCLUSTER_LOG_LEVEL: 'debug' } });
    const msgs = (msg: string) => cluster.logs().filter((line) => line.msg === msg && line['role'] === 'primary');
    for (let kill = 1; kill <= 3; kill++) {
      await waitFor(() => msgs('worker ready').length === kill, 30_000, `worker ${kill} ready`);
      const ready = msgs('worker ready')[kill - 1]!;
      // Killed once it has served a little (STABLE_AFTER_READY_MS, 1 s): a few seconds apart, as in a chaos run.
      await waitFor(() => Date.now() >= (ready['time'] as number) + 1_500, 5_000, 'the worker to serve a while');
      process.kill(ready['workerPid'] as number, 'SIGKILL');
      await waitFor(() => msgs('worker died; replacing it').length === kill, 10_000, `death ${kill} recorded`);
    }
    await waitFor(() => msgs('worker ready').length === 4, 30_000, 'the last replacement ready');
    const lines = cluster.logs();
    const gaps = lines.flatMap((line, i) => {
      if (line.msg !== 'worker died; replacing it' || line['role'] !== 'primary') return [];
      const forked = lines.slice(i).find((next) => next.msg === 'worker forked' && next['role'] === 'primary')!;
      return [(forked['time'] as number) - (line['time'] as number)];
    });
    expect(msgs('worker died; replacing it').map((line) => [line['respawnInMs'], line['consecutiveFailures']])).to.deep.equal([[0, 1], [0, 1], [0, 1]]);
    for (const gap of gaps) expect(gap, `death to fork, ms: ${gaps.join(', ')}`).to.be.below(1_000);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('over and over right after boot is restarted with a growing delay, not in a tight loop', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1 });
    const deaths = () => cluster.logs().filter((line) => line.msg === 'worker died; replacing it');
    for (let kill = 1; kill <= 4; kill++) {
      await waitFor(async () => (await clusterStatus(cluster)).workers.some((w) => w.state === 'ready'), 30_000, `worker ${kill} ready`);
      const { workers } = await clusterStatus(cluster);
      process.kill(workers[0]!.pid!, 'SIGKILL');
      await waitFor(() => deaths().length === kill, 10_000, `death ${kill} recorded`);
    }
    const delays = deaths().map((line) => line['respawnInMs'] as number);
    expect(delays[0], 'the first replacement is immediate').to.equal(0);
    for (let i = 1; i < delays.length; i++) expect(delays[i]!, `delays ${delays.join(', ')}`).to.be.greaterThan(delays[i - 1]!);
    expect(deaths().map((line) => line['consecutiveFailures'])).to.deep.equal([1, 2, 3, 4]);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
