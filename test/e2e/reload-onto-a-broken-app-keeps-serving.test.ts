import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startCluster, type ClusterProcess } from '../support/cluster-process.js';
import { clusterStatus } from '../support/status.js';
import { waitFor } from '../support/wait-for.js';

const WORKING_APP = `export default (req, res) => {
  req.db.query('SELECT 1 AS one').then((result) => res.end(String(result.rows[0].one)), () => { res.statusCode = 500; res.end(); });
};
`;
const BROKEN_APP = `throw new Error('broken deploy: missing config');\n`;

describe('a rolling reload onto an app that no longer loads', () => {
  let dir: string;
  let cluster: ClusterProcess;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pcluster-broken-deploy-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the old workers serving and the primary up, retries with backoff, and finishes once the app is fixed', async () => {
    const app = path.join(dir, 'app.mjs');
    await writeFile(app, WORKING_APP);
    cluster = await startCluster(app, { workers: 2 });
    const before = await clusterStatus(cluster);

    await writeFile(app, BROKEN_APP);
    const reloadedAt = Date.now();
    cluster.child.kill('SIGHUP');
    const failures = () => cluster.logs().filter((line) => line.msg === 'replacement worker died before it was ready');
    await waitFor(() => failures().length >= 2, 20_000, 'the replacements to fail');
    const failure = failures()[0]!;
    expect(String(failure['error']), 'the log says why').to.include('broken deploy: missing config');

    // Several seconds of a broken deploy: the generation-1 workers answer every request, the primary stays up.
    while (Date.now() - reloadedAt < 6_000) {
      const response = await fetch(`${cluster.url}/`, { signal: AbortSignal.timeout(5_000) });
      expect(response.status).to.equal(200);
      expect(await response.text()).to.equal('1');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(cluster.isRunning, `the primary is up\n${cluster.stderr}`).to.equal(true);
    const serving = (await clusterStatus(cluster)).workers.filter((w) => w.state === 'ready');
    expect(serving.map((w) => w.pid).sort(), 'the old workers still serve').to.deep.equal(before.workers.map((w) => w.pid).sort());
    // Backoff per slot: at once, then 1 s, 2 s, 4 s… — at most 4 attempts each in 6 s (a tight loop would make ~15).
    for (const slot of [1, 2]) {
      const attempts = failures().filter((line) => line['worker'] === slot).length;
      expect(attempts, `failed replacements of slot ${slot}`).to.be.within(1, 4);
    }

    await writeFile(app, WORKING_APP);
    await waitFor(async () => {
      const status = await clusterStatus(cluster);
      return status.workers.length === 2 && status.workers.every((w) => w.generation === 2 && w.state === 'ready');
    }, 45_000, 'the retried replacements to take over');
    expect((await cluster.stop()).code).to.equal(0);
  });
});
