import { expect } from 'chai';
import net from 'node:net';
import { spawnCluster, fixture } from '../support/cluster-process.js';
import { clusterBackends, useAdminClient } from '../support/database.js';
import { freePort } from '../support/free-port.js';

const lines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');

describe('the HTTP port in use', () => {
  const admin = useAdminClient();

  it('exits 3 with one line naming --port and the port: no stack, no password, nothing left behind', async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '0.0.0.0', resolve));
    try {
      const cluster = await spawnCluster(fixture('routes.mjs'), { workers: 2, port });
      const timeout = new Promise<{ code: null }>((resolve) => setTimeout(() => resolve({ code: null }), 60_000));
      expect((await Promise.race([cluster.exited, timeout])).code, cluster.stderr).to.equal(3);
      expect(lines(cluster.stderr), cluster.stderr).to.deep.equal([
        `pcluster: cannot listen on 0.0.0.0:${port} (--port ${port}): the port is already in use; stop what listens there or choose another --port (EADDRINUSE)`,
      ]);
      const password = new URL(process.env['PCLUSTER_TEST_DATABASE_URL']!).password;
      expect(cluster.stderr + cluster.stdout).not.to.include(password);
      expect(await clusterBackends(admin(), cluster.name), 'no connection left behind').to.have.length(0);
    } finally {
      blocker.close();
    }
  });
});
