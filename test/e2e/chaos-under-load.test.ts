import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI, REPO_ROOT, startCluster, fixture, type ClusterProcess } from '../support/cluster-process.js';
import { sampleConnections } from '../support/connection-sampler.js';
import { useAdminClient, clusterBackends } from '../support/database.js';
import { metricValue } from '../support/http.js';
import { startLoad } from '../support/load.js';
import { clusterStatus } from '../support/status.js';
import { waitFor } from '../support/wait-for.js';

const CONNECTIONS = 12;
const BUDGET = 5;

/** Waits until every wanted worker is ready, so the next event starts from a settled cluster. */
async function settled(cluster: ClusterProcess, workers: number): Promise<void> {
  await waitFor(async () => {
    const status = await clusterStatus(cluster);
    return status.workers.length === workers && status.workers.every((w) => w.state === 'ready' && w.db.state !== 'connecting');
  }, 60_000, `${workers} settled workers`);
}

describe('chaos under keep-alive load', () => {
  const admin = useAdminClient();

  it('SIGKILLs, terminated backends, a hung worker, a reload and scaling: budget held, failures bounded, clean at the end', async function () {
    this.timeout(180_000);
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 3, args: ['--max-connections', String(BUDGET), '--timeout', '2s'] });
    const pcluster = (...args: string[]) => promisify(execFile)(process.execPath, [CLI, ...args, '--name', cluster.name], { cwd: REPO_ROOT });
    const sampler = sampleConnections(admin(), cluster.name);
    const load = startLoad(`${cluster.url}/page`, CONNECTIONS);
    const events: string[] = [];
    // Each event that kills a worker may fail the requests on that worker's keep-alive sockets: at most all of them.
    let failureAllowance = 0;

    const randomWorker = async () => {
      const { workers } = await clusterStatus(cluster);
      return workers[Math.floor(Math.random() * workers.length)]!;
    };
    await settled(cluster, 3);
    for (let round = 0; round < 2; round++) {
      const victim = await randomWorker();
      process.kill(victim.pid!, 'SIGKILL');
      events.push(`SIGKILL worker ${victim.slot}`);
      failureAllowance += CONNECTIONS;
      await settled(cluster, 3);

      const backend = await randomWorker();
      await admin().query('SELECT pg_terminate_backend($1)', [backend.db.backendPid]);
      events.push(`pg_terminate_backend of worker ${backend.slot}`);
      // A dying connection fails every statement in flight on it (pipelined: up to one per load connection), none retried.
      failureAllowance += CONNECTIONS;
      await settled(cluster, 3);

      void fetch(`${cluster.url}/block?ms=8000`).then((r) => r.text(), () => undefined);
      events.push('event loop blocked past --timeout');
      failureAllowance += CONNECTIONS;
      await waitFor(async () => {
        const metrics = await (await fetch(`${cluster.metricsUrl}/metrics`)).text();
        return (metricValue(metrics, 'pcluster_worker_restarts_total{reason="timeout"}') ?? 0) > round;
      }, 30_000, 'the hung worker replaced');
      await settled(cluster, 3);

      const generation = round + 2;
      await pcluster('reload');
      events.push('rolling reload');
      await waitFor(async () => (await clusterStatus(cluster)).workers.every((w) => w.generation === generation && w.state === 'ready'), 60_000, 'the reload');
      await settled(cluster, 3);

      await pcluster('scale', '4');
      events.push('scale to 4');
      await settled(cluster, 4);
      await pcluster('scale', '3');
      events.push('scale to 3');
      await settled(cluster, 3);
    }
    const outcome = await load.stop();
    const connections = await sampler.stop();

    expect(connections.max, `connections sampled ${connections.samples} times`).to.be.at.most(BUDGET);
    expect(outcome.requests).to.be.greaterThan(1_000);
    expect(outcome.failures, `${events.join(', ')}; status codes ${JSON.stringify(outcome.statusCodes)}`).to.be.at.most(failureAllowance);
    const idleInTransaction = await admin().query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE $1 AND state LIKE 'idle in transaction%'", [`pcluster:${cluster.name}:%`]);
    expect(idleInTransaction.rows[0].n).to.equal(0);
    for (let i = 0; i < 50; i++) expect(await fetch(`${cluster.url}/page`).then(async (r) => (await r.text(), r.status)), 'after the last event').to.equal(200);

    expect((await cluster.stop()).code).to.equal(0);
    expect(await clusterBackends(admin(), cluster.name)).to.have.length(0);
    console.log(`      chaos: ${outcome.requests} requests, ${outcome.failures} failed (allowed ${failureAllowance}), max ${connections.max}/${BUDGET} connections in ${connections.samples} samples; ${events.length} events`);
  });
});
