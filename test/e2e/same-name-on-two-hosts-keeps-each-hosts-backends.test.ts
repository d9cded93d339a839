import path from 'node:path';
import { expect } from 'chai';
import type { StatusReport } from 'pcluster';
import { fixture, spawnCluster, type ClusterProcess } from '../support/cluster-process.js';
import { metricValue } from '../support/http.js';
import { useNetworkLab } from '../support/network-lab.js';
import { useTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';

const WATCH_MS = 20_000;

/**
 * Every pod of a Deployment runs the same command, so K hosts run instances of one --name, one application_name
 * prefix. Each counts, and checks for orphans, only the backends PostgreSQL sees coming from its own host: the other
 * host's are not its orphans to terminate. Two hosts of the test's own (network namespaces) share one PostgreSQL.
 */
describe('two hosts running instances of the same --name (SPEC §6)', () => {
  const tempDir = useTempDir('pcluster-same-name');
  const env = useNetworkLab(2);

  it('neither terminates nor counts the other host\'s backends', async function () {
    this.timeout(120_000);
    const name = `same${process.pid}`;
    const hosts = [0, 1];
    const instances: ClusterProcess[] = await Promise.all(hosts.map((host) => spawnCluster(fixture('routes.mjs'), {
      name, workers: 2, prefix: env.lab.inHost(host), databaseUrl: env.postgres.url(host),
      args: ['--control-socket', path.join(tempDir(), `host${host}.sock`)],
    })));
    const observe = async (host: number) => {
      const { metricsUrl } = instances[host]!;
      const metrics = await env.lab.textFromHost(host, `${metricsUrl}/metrics`);
      const status = await env.lab.jsonFromHost<StatusReport>(host, `${metricsUrl}/status`);
      return {
        backendPids: status.workers.map((w) => w.db.backendPid),
        serverConnections: metricValue(metrics, 'pcluster_db_server_connections'),
        orphansTerminated: metricValue(metrics, 'pcluster_db_orphans_terminated_total'),
      };
    };
    for (const instance of instances) await instance.waitForLog((line) => String(line.msg).includes('workers ready'), 60_000);
    await waitFor(async () => (await Promise.all(hosts.map(observe))).every((o) => o.serverConnections !== undefined), 30_000, 'both server-side counts');
    const first = await Promise.all(hosts.map(observe));
    const { rows } = await env.admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE $1', [`pcluster:${name}:%`]);
    expect(rows[0].n, 'both hosts\' workers hold a backend under the one application_name prefix').to.equal(4);

    // Long enough for several checks (every 2 s) and the orphan grace (4 s): the other host's backends would be gone by then.
    const samples: Awaited<ReturnType<typeof observe>>[] = [];
    for (const until = Date.now() + WATCH_MS; Date.now() < until;) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      samples.push(...(await Promise.all(hosts.map(observe))));
    }
    const seen = hosts.map((host) => {
      const own = samples.filter((_, i) => i % hosts.length === host);
      return {
        orphansTerminated: Math.max(...own.map((s) => s.orphansTerminated ?? NaN)),
        backendPids: [...new Set(own.flatMap((s) => s.backendPids))].sort(),
        serverConnections: [...new Set(own.map((s) => s.serverConnections))],
      };
    });
    expect(seen, 'no backend terminated as an orphan, each host\'s workers kept theirs, each counts its own two').to.deep.equal(
      first.map((f) => ({ orphansTerminated: 0, backendPids: [...f.backendPids].sort(), serverConnections: [2] })),
    );
    expect((await Promise.all(instances.map((instance) => instance.stop()))).map((exit) => exit.code)).to.deep.equal([0, 0]);
  });
});
