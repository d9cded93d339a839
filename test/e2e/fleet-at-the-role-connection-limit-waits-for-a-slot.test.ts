import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { StatusReport } from 'pcluster';
import { CLI, fixture, REPO_ROOT, spawnCluster, startCluster, type ClusterProcess } from '../support/cluster-process.js';
import { adminClient } from '../support/database.js';
import { metricValue } from '../support/http.js';
import { clusterStatus } from '../support/status.js';
import { waitFor } from '../support/wait-for.js';

const ROLE = `fleet_${process.pid}`;
const LIMIT = 5;

/** The test server's URL, logging in as `role` instead. */
function urlAs(role: string, password: string): string {
  const url = new URL(process.env['PCLUSTER_TEST_DATABASE_URL']!);
  url.username = role;
  url.password = password;
  return url.toString();
}

const dbStates = (status: StatusReport): string[] => status.workers.map((w) => w.db.state).sort();

describe('three instances × 2 workers under a role CONNECTION LIMIT 5 (SPEC §6)', () => {
  let client: Awaited<ReturnType<typeof adminClient>> | undefined;
  const admin = () => client!;
  const password = `pw-${process.pid}-${Date.now()}`;

  before(async () => {
    client = await adminClient();
    await admin().query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${password}' CONNECTION LIMIT ${LIMIT}`);
  });
  after(async () => {
    await admin().query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [ROLE]);
    await waitFor(async () => (await admin().query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [ROLE])).rows[0].n === 0, 10_000, 'the role\'s backends to exit');
    await admin().query(`DROP ROLE IF EXISTS ${ROLE}`);
    await client?.end();
  });

  it('never exceed the limit; the sixth worker waits (status, metrics, one log line) and takes the slot an instance frees', async () => {
    let maxBackends = 0;
    let isSampling = true;
    const sampler = (async () => {
      for (; isSampling; await new Promise((resolve) => setTimeout(resolve, 50))) {
        const { rows } = await admin().query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [ROLE]);
        maxBackends = Math.max(maxBackends, rows[0].n);
      }
    })();
    const databaseUrl = urlAs(ROLE, password);
    const instances: ClusterProcess[] = [];
    try {
      instances.push(...(await Promise.all([1, 2].map(() => startCluster(fixture('plain-esm.mjs'), { workers: 2, databaseUrl })))));
      // The third starts into a full fleet: it starts anyway, one worker serving and one waiting for a slot.
      const third = await spawnCluster(fixture('plain-esm.mjs'), { workers: 2, databaseUrl });
      instances.push(third);
      await waitFor(async () => {
        const states = dbStates(await clusterStatus(third).catch(() => ({ workers: [] }) as unknown as StatusReport));
        return states.join() === 'open,waiting';
      }, 30_000, 'one worker of the third instance open and one waiting');
      await waitFor(async () => metricValue(await (await fetch(`${third.metricsUrl}/metrics`)).text(), 'pcluster_db_connects_total{result="limit"}')! >= 2, 15_000, 'repeated refusals');

      const json = JSON.parse((await promisify(execFile)(process.execPath, [CLI, 'status', '--json', '--name', third.name], { cwd: REPO_ROOT })).stdout) as StatusReport;
      const waiting = json.workers.find((w) => w.db.state === 'waiting')!;
      expect(waiting.state, 'the waiting worker is not ready').to.equal('starting');
      expect(waiting.db.detail).to.equal('waiting for a server slot');
      const table = (await promisify(execFile)(process.execPath, [CLI, 'status', '--name', third.name], { cwd: REPO_ROOT })).stdout;
      expect(table, table).to.include('waiting for a server slot');
      for (const instance of instances) {
        const response = await fetch(instance.url);
        expect(response.status, `${instance.name} serves`).to.equal(200);
        await response.text();
      }
      const waitLines = (c: ClusterProcess) => c.logs().filter((l) => l['worker'] === waiting.slot && /waiting for a server slot/.test(String(l.msg)));
      expect(waitLines(third), 'one warning when it starts waiting, not one per attempt').to.have.length(1);
      expect(waitLines(third)[0]!['err'], 'no stack trace').to.equal(undefined);

      // One instance stops: its two slots free up, and the waiting worker takes one within a few seconds.
      expect((await instances[0]!.stop()).code).to.equal(0);
      await waitFor(async () => dbStates(await clusterStatus(third)).join() === 'open,open', 10_000, 'the waiting worker to get a slot');
      await third.waitForLog((l) => l['worker'] === waiting.slot && l.msg === 'got a server slot after waiting for one', 10_000);
      await waitFor(async () => (await clusterStatus(third)).workers.every((w) => w.state === 'ready'), 30_000, 'both workers of the third instance ready');
      expect(instances.every((c) => c === instances[0] || c.isRunning), 'no instance exited').to.equal(true);
      expect((await clusterStatus(third)).workers.map((w) => w.restarts), 'no worker was restarted (no boot failure, no crash loop)').to.deep.equal([0, 0]);
    } finally {
      await Promise.all(instances.map((c) => c.stop()));
      isSampling = false;
      await sampler;
    }
    expect(maxBackends, 'PostgreSQL never shows more than the role\'s limit').to.be.at.most(LIMIT);
    expect(maxBackends, 'the sampler saw the fleet').to.be.at.least(4);
  });
});
