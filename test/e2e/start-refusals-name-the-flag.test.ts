import { expect } from 'chai';
import net from 'node:net';
import { fixture, spawnCluster, startCluster } from '../support/cluster-process.js';
import { clusterBackends, useAdminClient } from '../support/database.js';
import { freePort } from '../support/free-port.js';

const lines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');
/** Nothing that tells node-postgres where to connect: no PG* target, and no $USER for its default user and database. */
const NO_DATABASE_ENV = { PGHOST: '', PGPORT: '', PGUSER: '', PGDATABASE: '', USER: '' };

describe('start refusals name the flag the user gave or should give', () => {
  const admin = useAdminClient();

  it('no database configured: exit 4, one line that says so and names --database-url, DATABASE_URL, PG* and --embedded-postgres, never "undefined"', async () => {
    const cluster = await spawnCluster(fixture('routes.mjs'), { workers: 1, databaseUrl: null, env: NO_DATABASE_ENV });
    expect((await cluster.exited).code, cluster.stderr).to.equal(4);
    expect(lines(cluster.stderr), cluster.stderr).to.have.length(1);
    expect(cluster.stderr).to.match(/^pcluster: no database configured \(no --database-url, DATABASE_URL, PGHOST\/PGPORT\/PGDATABASE\/PGUSER or --embedded-postgres/);
    expect(cluster.stderr).to.match(/node-postgres' defaults were tried: cannot connect to PostgreSQL at localhost:5432, database \(none\), user \(none\): /);
    expect(cluster.stderr).to.match(/give --database-url .*, set DATABASE_URL or the PG\* variables, or pass --embedded-postgres for a local server$/m);
    expect(cluster.stderr + cluster.stdout).not.to.include('undefined');
  });

  it('the metrics port in use: exit 2, one line naming --metrics-port and the fix, nothing left running', async () => {
    const blocker = net.createServer();
    const metricsPort = await freePort();
    await new Promise<void>((resolve) => blocker.listen(metricsPort, '127.0.0.1', resolve));
    try {
      const cluster = await spawnCluster(fixture('routes.mjs'), { workers: 1, metricsPort });
      expect((await cluster.exited).code, cluster.stderr).to.equal(2);
      expect(lines(cluster.stderr)).to.deep.equal([
        `pcluster: cannot listen for metrics on 127.0.0.1:${metricsPort} (--metrics-port ${metricsPort}): the port is already in use (another pcluster?); stop what listens there or choose another --metrics-port (EADDRINUSE)`,
      ]);
      expect(await clusterBackends(admin(), cluster.name), 'nothing left running').to.have.length(0);
    } finally {
      blocker.close();
    }
  });

  it('a second instance with the same name is refused before it boots an embedded PostgreSQL', async () => {
    const first = await startCluster(fixture('routes.mjs'), { workers: 1 });
    const second = await spawnCluster(fixture('routes.mjs'), { workers: 1, name: first.name, databaseUrl: null, args: ['--embedded-postgres'] });
    expect((await second.exited).code, second.stderr).to.equal(2);
    expect(second.stdout, 'no embedded PostgreSQL was started').not.to.match(/embedded PostgreSQL/);
    expect(lines(second.stderr)).to.have.length(1);
    expect(second.stderr.trim()).to.match(/^pcluster: another pcluster with this name is running \(control socket \S+\); stop it \(pcluster stop --control-socket \S+\), or start this one with another --name$/);
    expect(first.isRunning).to.equal(true);
    expect((await first.stop()).code).to.equal(0);
  });
});
