import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import { useOwnPostgres } from '../support/own-postgres.js';
import { waitFor } from '../support/wait-for.js';

describe('while PostgreSQL is down', () => {
  const postgres = useOwnPostgres();

  it('database requests get 503 + Retry-After within the lease timeout, others keep working, and service resumes without restarts', async () => {
    const server = postgres();
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1, databaseUrl: server.connectionString, args: ['--lease-timeout', '1s'] });
    const before = await (await fetch(`${cluster.url}/pid`)).json();

    await server.stop('fast');
    const startedAt = Date.now();
    const unavailable = await fetch(`${cluster.url}/pid`);
    const waitedMs = Date.now() - startedAt;
    expect(unavailable.status).to.equal(503);
    expect(unavailable.headers.get('retry-after')).to.match(/^\d+$/);
    expect(await unavailable.text()).to.equal('Service Unavailable\n');
    expect(waitedMs, 'answered within --lease-timeout plus a margin').to.be.below(1_000 + 1_500);

    const nodb = await fetch(`${cluster.url}/nodb`);
    expect(nodb.status).to.equal(200);
    expect((await nodb.json())['workerPid']).to.equal(before['workerPid']);

    await server.start();
    const acceptingAt = Date.now();
    let recovered: { workerPid: number } | undefined;
    await waitFor(async () => {
      const response = await fetch(`${cluster.url}/pid`);
      if (response.status === 200) recovered = (await response.json()) as { workerPid: number };
      else await response.text();
      return recovered !== undefined;
    }, 10_000, 'a successful database request after the restart');
    expect(Date.now() - acceptingAt, 'recovered within 3 s of the server accepting connections').to.be.below(3_000);
    expect(recovered!.workerPid, 'the worker was not restarted').to.equal(before['workerPid']);

    const status = await (await fetch(`${cluster.metricsUrl}/status`)).json();
    expect(status.workers.map((w: { restarts: number }) => w.restarts)).to.deep.equal([0]);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
