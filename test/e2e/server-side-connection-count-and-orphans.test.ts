import { expect } from 'chai';
import pg from 'pg';
import { startCluster, fixture, type ClusterProcess } from '../support/cluster-process.js';
import { useAdminClient, clusterBackends } from '../support/database.js';
import { metricValue } from '../support/http.js';
import { waitFor } from '../support/wait-for.js';

const metric = async (cluster: ClusterProcess, sample: string): Promise<number | undefined> =>
  metricValue(await (await fetch(`${cluster.metricsUrl}/metrics`)).text(), sample);

describe('what PostgreSQL itself sees', () => {
  const admin = useAdminClient();

  it('pcluster_db_server_connections equals the workers\' count, without the primary holding a connection of its own', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 3 });
    await waitFor(async () => (await metric(cluster, 'pcluster_db_server_connections')) === 3, 15_000, 'the server-side count');
    expect(await metric(cluster, 'pcluster_db_connections{state="open"}')).to.equal(3);
    expect((await clusterBackends(admin(), cluster.name)).map((b) => b.application_name)).to.deep.equal([1, 2, 3].map((n) => `pcluster:${cluster.name}:${n}`));
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('an orphaned backend with the cluster\'s application_name is detected, counted and terminated', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2 });
    // A connection no worker owns: what a worker that vanished behind a network partition leaves behind.
    const orphan = new pg.Client({ connectionString: process.env['PCLUSTER_TEST_DATABASE_URL'], application_name: `pcluster:${cluster.name}:7` });
    const ended = new Promise<void>((resolve) => {
      orphan.on('error', () => resolve());
      orphan.on('end', () => resolve());
    });
    await orphan.connect();
    const orphanPid = (await orphan.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;

    await waitFor(async () => (await metric(cluster, 'pcluster_db_orphans_terminated_total')) === 1, 30_000, 'the orphan to be terminated');
    await ended;
    const { rows } = await admin().query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [orphanPid]);
    expect(rows[0].n).to.equal(0);
    expect(await metric(cluster, 'pcluster_db_connection_mismatches_total')).to.equal(1);
    const warnings = cluster.logs().filter((line) => line['backendPid'] === orphanPid || (line['backendPids'] as number[] | undefined)?.includes(orphanPid));
    expect(warnings.map((line) => line.msg)).to.deep.equal([
      'PostgreSQL shows a connection of this cluster that no worker holds; terminating it if it stays orphaned',
      'terminated orphaned backends no worker owns',
    ]);
    expect(await clusterBackends(admin(), cluster.name), 'the workers\' own connections are untouched').to.have.length(2);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
