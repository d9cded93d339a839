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
    // --max-connections was not given: the line says it is the default (workers + 1) and what to pass instead.
    expect(refused.stderr.trim()).to.match(
      /^pcluster: --workers 3 needs 4 connections \(--max-connections defaults to workers \+ 1, one spare for replacements\) but PostgreSQL at 127\.0\.0\.1:\d+ can give \(max_connections 6 minus 3 reserved = 3\); pass --workers 2 or fewer, --max-connections 3 to keep 3 workers with no spare connection for replacements, or raise max_connections on the server$/,
    );
    expect(refused.stdout).not.to.match(/worker/);

    const explicit = await spawnCluster(fixture('routes.mjs'), { workers: 2, databaseUrl: server.connectionString, args: ['--max-connections', '5'] });
    expect((await explicit.exited).code).to.equal(2);
    expect(explicit.stderr.trim()).to.match(/^pcluster: --max-connections 5 is more than PostgreSQL at \S+ can give \(max_connections 6 minus 3 reserved = 3\); lower --max-connections to 3 or less \(at least --workers 2\), or raise max_connections on the server$/);

    const fits = await startCluster(fixture('routes.mjs'), { workers: 2, databaseUrl: server.connectionString });
    expect((await fits.stop()).code).to.equal(0);
  });
});
