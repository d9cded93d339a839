import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import { startLoad } from '../support/load.js';
import { useOwnPostgres } from '../support/own-postgres.js';
import { clusterStatus } from '../support/status.js';
import { waitFor } from '../support/wait-for.js';

const LOAD_CONNECTIONS = 8;

describe('a PostgreSQL restart under load', () => {
  const postgres = useOwnPostgres();

  it('answers 503 during the outage, succeeds again within 3 s of the server accepting connections, and restarts no worker', async () => {
    const server = postgres();
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2, databaseUrl: server.connectionString, args: ['--lease-timeout', '1s'] });
    const load = startLoad(`${cluster.url}/page`, LOAD_CONNECTIONS);
    await waitFor(async () => (await clusterStatus(cluster)).workers.every((w) => w.requests > 20), 20_000, 'load on both workers');

    await server.stop('fast');
    const during = await fetch(`${cluster.url}/pid`);
    expect(during.status).to.equal(503);
    expect(during.headers.get('retry-after')).to.match(/^\d+$/);
    await during.text();
    await server.start();
    const acceptingAt = Date.now();
    await waitFor(async () => (await fetch(`${cluster.url}/pid`).then((r) => r.status, () => 0)) === 200, 10_000, 'the first success');
    const recoveredMs = Date.now() - acceptingAt;
    const outcome = await load.stop();

    expect(recoveredMs, 'succeeded again within 3 s').to.be.below(3_000);
    const unexpected = Object.keys(outcome.statusCodes).filter((code) => !['200', '503', '500'].includes(code));
    expect(unexpected, JSON.stringify(outcome.statusCodes)).to.deep.equal([]);
    expect(outcome.statusCodes['503'] ?? 0, 'the outage showed as 503s').to.be.greaterThan(0);
    // A 500 is a request whose statement was in flight at the instant the server went down: pipelined, at most one per load connection.
    expect(outcome.statusCodes['500'] ?? 0).to.be.at.most(LOAD_CONNECTIONS);
    for (let i = 0; i < 20; i++) expect((await fetch(`${cluster.url}/page`).then(async (r) => (await r.text(), r.status)))).to.equal(200);
    const status = await clusterStatus(cluster);
    expect(status.workers.map((w) => w.restarts), 'no worker was restarted').to.deep.equal([0, 0]);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
