import { expect } from 'chai';
import type { StatusReport } from 'pcluster';
import { fixture, spawnCluster } from '../support/cluster-process.js';
import { useNetworkLab } from '../support/network-lab.js';
import { waitFor } from '../support/wait-for.js';

const KEEPALIVE_S = 5;
const ROLE = 'fleet';

/**
 * SPEC §6: a host cut off by a network partition loses its backends on the server within --keepalive-timeout, so
 * another host's worker waiting at the role's CONNECTION LIMIT takes the slot; the cut host answers 503 meanwhile and
 * serves again when the network returns, without restarts. PostgreSQL and two pcluster hosts run in network
 * namespaces of the test's own, each host joined to the database's by a veth pair that the test can take down.
 */
describe('a host cut off from PostgreSQL by a network partition (SPEC §6)', () => {
  const env = useNetworkLab(2);

  it(`loses its backends within --keepalive-timeout ${KEEPALIVE_S}s to a waiting host, answers 503, serves again when the link returns`, async function () {
    this.timeout(150_000);
    const password = `pw-${process.pid}`;
    await env.admin.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${password}' CONNECTION LIMIT 2`);
    await env.admin.query(`GRANT CREATE ON SCHEMA public TO ${ROLE}`); // the app's setup() creates its table
    const start = (host: number, workers: number) => spawnCluster(fixture('routes.mjs'), {
      workers, prefix: env.lab.inHost(host), databaseUrl: env.postgres.url(host, { user: ROLE, password }),
      args: ['--keepalive-timeout', `${KEEPALIVE_S}s`, '--lease-timeout', '1s'],
    });
    const status = (host: number, url: string) => env.lab.jsonFromHost<StatusReport>(host, `${url}/status`);
    const cut = await start(0, 2);
    await cut.waitForLog((line) => String(line.msg).includes('workers ready'), 60_000);
    expect(await env.lab.statusFromHost(0, `${cut.url}/pid`)).to.equal(200);
    // The second host starts into the full role: its worker waits for a slot.
    const other = await start(1, 1);
    await waitFor(async () => (await status(1, other.metricsUrl).catch(() => undefined))?.workers[0]?.db.state === 'waiting', 60_000, 'the second host to wait for a slot');
    const backends = async (): Promise<number[]> =>
      (await env.admin.query('SELECT pid FROM pg_stat_activity WHERE application_name LIKE $1', [`pcluster:${cut.name}:%`])).rows.map((r) => r.pid as number);
    const before = await backends();
    expect(before).to.have.length(2);
    const workerPids = (await status(0, cut.metricsUrl)).workers.map((w) => w.pid);

    // A statement in flight when the link goes: its reply never comes, and Node cannot bound the wait at the socket.
    const inFlight = env.lab.statusFromHost(0, `${cut.url}/pg-sleep?ms=3000`, 30);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await env.lab.cut(0);
    const cutAt = Date.now();
    await waitFor(async () => (await backends()).every((pid) => !before.includes(pid)), 30_000, 'the cut host\'s backends to leave pg_stat_activity');
    const goneAfterS = (Date.now() - cutAt) / 1000;
    console.log(`      backends gone ${goneAfterS.toFixed(1)}s after the cut (--keepalive-timeout ${KEEPALIVE_S}s)`);
    expect(goneAfterS, 'gone within the keepalive timeout, with a margin for a loaded machine').to.be.below(KEEPALIVE_S * 3);
    await waitFor(async () => (await env.lab.statusFromHost(1, `${other.url}/pid`)) === 200, 30_000, 'the waiting host to take a freed slot and serve');
    await waitFor(async () => (await env.lab.statusFromHost(0, `${cut.url}/pid`)) === 503, 30_000, 'the cut host to answer 503');
    expect(await env.lab.statusFromHost(0, `${cut.url}/nodb`), 'requests that need no database keep working').to.equal(200);
    expect(await inFlight, 'the request in flight at the cut failed (--keepalive-timeout on the client side) instead of hanging').to.be.oneOf([500, 503]);

    await env.lab.heal(0);
    await waitFor(async () => (await env.lab.statusFromHost(0, `${cut.url}/pid`)) === 200, 30_000, 'the cut host to serve again');
    const after = await status(0, cut.metricsUrl);
    expect(after.workers.map((w) => w.pid), 'no worker was restarted').to.deep.equal(workerPids);
    expect(after.workers.map((w) => w.restarts)).to.deep.equal([0, 0]);
    const roleBackends = (await env.admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [ROLE])).rows[0].n;
    expect(roleBackends, 'the role\'s limit still holds: one of the cut host\'s workers waits now').to.be.at.most(2);
    await Promise.all([cut.stop(), other.stop()]);
  });
});
