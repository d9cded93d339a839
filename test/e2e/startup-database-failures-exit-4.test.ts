import { expect } from 'chai';
import { spawnCluster, startCluster, fixture } from '../support/cluster-process.js';
import { useOwnPostgres } from '../support/own-postgres.js';
import { freePort } from '../support/free-port.js';

const lines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');

describe('a database that cannot be used at start-up', () => {
  const postgres = useOwnPostgres();

  const cases = [
    { what: 'a wrong password', url: () => postgres().connectionString.replace(/:[^:@/]+@/, ':not-the-password@'), reason: /password authentication failed/ },
    { what: 'an unknown database', url: () => postgres().connectionString.replace(/\/[^/]+$/, '/no_such_db'), reason: /database "no_such_db" does not exist/ },
  ];
  for (const { what, url, reason } of cases) {
    it(`${what}: exit 4 with one line naming host, port, database and user, never the password`, async () => {
      const server = postgres();
      const cluster = await spawnCluster(fixture('routes.mjs'), { workers: 2, databaseUrl: url() });
      expect((await cluster.exited).code).to.equal(4);
      expect(lines(cluster.stderr), cluster.stderr).to.have.length(1);
      expect(cluster.stderr).to.include(`127.0.0.1:${server.port}`).and.to.include(`user "${server.user}"`).and.to.match(reason);
      expect(cluster.stderr).to.match(/database "/);
      expect(cluster.stdout + cluster.stderr).not.to.include(server.password).and.not.to.include('not-the-password');
    });
  }

  it('an unreachable server: exit 4 at once; with --wait-for-db it waits and comes up when the server does', async () => {
    const port = await freePort();
    const unreachable = `postgres://pcluster:secret-pw@127.0.0.1:${port}/pcluster`;
    const failing = await spawnCluster(fixture('routes.mjs'), { workers: 1, databaseUrl: unreachable });
    expect((await failing.exited).code).to.equal(4);
    expect(failing.stderr).to.match(/ECONNREFUSED/).and.not.to.include('secret-pw');

    const server = postgres();
    await server.stop();
    const waiting = await spawnCluster(fixture('routes.mjs'), { workers: 1, databaseUrl: server.connectionString, args: ['--wait-for-db', '30s'] });
    await waiting.waitForLog((line) => String(line.msg).includes('--wait-for-db'));
    await server.start();
    await waiting.waitForLog((line) => String(line.msg).includes('workers ready'));
    expect((await fetch(`${waiting.url}/pid`)).status).to.equal(200);
    expect((await waiting.stop()).code).to.equal(0);
  });
});
