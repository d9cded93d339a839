import { expect } from 'chai';
import { spawnCluster, startCluster, fixture } from '../support/cluster-process.js';
import { startPostgres, type PostgresServer } from 'pcluster/postgres';

describe('a connection budget the server cannot give', () => {
  let server: PostgresServer;
  before(async function () {
    this.timeout(60_000);
    // max_connections 6 with the default 3 superuser-reserved slots leaves 3 for a cluster.
    server = await startPostgres({ maxConnections: 6 });
  });
  after(async () => {
    await server.destroy();
  });

  it('is refused at start with one line (exit 2), before anything is forked; a budget that fits starts', async () => {
    const refused = await spawnCluster(fixture('routes.mjs'), { workers: 3, databaseUrl: server.connectionString });
    expect((await refused.exited).code).to.equal(2);
    expect(refused.stderr.trim().split('\n')).to.have.length(1);
    expect(refused.stderr).to.match(/--max-connections 4 is more than PostgreSQL at 127\.0\.0\.1:\d+ can give \(max_connections 6 minus 3 reserved = 3\)/);
    expect(refused.stdout).not.to.match(/worker/);

    const fits = await startCluster(fixture('routes.mjs'), { workers: 2, databaseUrl: server.connectionString });
    expect((await fits.stop()).code).to.equal(0);
  });
});
