import { expect } from 'chai';
import type pg from 'pg';
import type { StatusReport } from 'pcluster';
import { fixture, spawnCluster } from '../support/cluster-process.js';
import { namespaceSupport, NetworkLab, startPostgresIn, type NamespacedPostgres } from '../support/network-lab.js';
import { waitFor } from '../support/wait-for.js';

const KEEPALIVE_S = 5;

/**
 * SPEC §6: a host cut off by a network partition loses its backends on the server within --keepalive-timeout (the
 * slots are free for other hosts), answers 503 meanwhile, and serves again when the network returns, without restarts.
 * PostgreSQL and pcluster run in network namespaces of the test's own, joined by a veth pair that the test takes down.
 */
describe('a host cut off from PostgreSQL by a network partition (SPEC §6)', () => {
  let lab: NetworkLab | undefined;
  let postgres: NamespacedPostgres | undefined;
  let admin: pg.Client | undefined;

  before(async function () {
    this.timeout(90_000);
    const unsupported = namespaceSupport();
    if (unsupported !== undefined) {
      console.warn(`      skipped: ${unsupported}`);
      this.skip();
    }
    lab = await NetworkLab.create();
    postgres = await startPostgresIn(lab);
    admin = await postgres.admin();
  });
  after(async () => {
    await admin?.end().catch(() => {});
    await postgres?.stop();
    await lab?.destroy();
  });

  it(`loses its backends within --keepalive-timeout ${KEEPALIVE_S}s, answers 503, and serves again when the link returns`, async function () {
    this.timeout(120_000);
    const cluster = await spawnCluster(fixture('routes.mjs'), {
      workers: 2, prefix: lab!.inHost, databaseUrl: postgres!.url, args: ['--keepalive-timeout', `${KEEPALIVE_S}s`, '--lease-timeout', '1s'],
    });
    await cluster.waitForLog((line) => String(line.msg).includes('workers ready'), 60_000);
    expect(await lab!.statusFromHost(`${cluster.url}/pid`)).to.equal(200);
    const backends = async (): Promise<number[]> =>
      (await admin!.query('SELECT pid FROM pg_stat_activity WHERE application_name LIKE $1', [`pcluster:${cluster.name}:%`])).rows.map((r) => r.pid as number);
    const before = await backends();
    expect(before).to.have.length(2);
    const workerPids = (await lab!.jsonFromHost<StatusReport>(`${cluster.metricsUrl}/status`)).workers.map((w) => w.pid);

    // A statement in flight when the link goes: its reply never comes, and Node cannot bound the wait at the socket.
    const inFlight = lab!.statusFromHost(`${cluster.url}/pg-sleep?ms=3000`, 30);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await lab!.cut();
    const cutAt = Date.now();
    await waitFor(async () => (await backends()).every((pid) => !before.includes(pid)), 30_000, 'the cut host\'s backends to leave pg_stat_activity');
    const goneAfterS = (Date.now() - cutAt) / 1000;
    console.log(`      backends gone ${goneAfterS.toFixed(1)}s after the cut (--keepalive-timeout ${KEEPALIVE_S}s)`);
    expect(goneAfterS, 'gone within the keepalive timeout, with a margin for a loaded machine').to.be.below(KEEPALIVE_S * 3);
    await waitFor(async () => (await lab!.statusFromHost(`${cluster.url}/pid`)) === 503, 30_000, 'the cut host to answer 503');
    expect(await lab!.statusFromHost(`${cluster.url}/nodb`), 'requests that need no database keep working').to.equal(200);
    expect(await inFlight, 'the request in flight at the cut failed (--keepalive-timeout on the client side) instead of hanging').to.be.oneOf([500, 503]);

    await lab!.heal();
    await waitFor(async () => (await lab!.statusFromHost(`${cluster.url}/pid`)) === 200, 30_000, 'the host to serve again');
    const status = await lab!.jsonFromHost<StatusReport>(`${cluster.metricsUrl}/status`);
    expect(status.workers.map((w) => w.pid), 'no worker was restarted').to.deep.equal(workerPids);
    expect(status.workers.map((w) => w.restarts)).to.deep.equal([0, 0]);
    expect(await backends(), 'new backends replace the lost ones').to.have.length.at.least(1);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
