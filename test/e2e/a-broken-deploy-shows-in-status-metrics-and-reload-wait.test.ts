import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { StatusReport } from 'pcluster';
import { CLI, REPO_ROOT, startCluster } from '../support/cluster-process.js';
import { metricValue } from '../support/http.js';
import { clusterStatus } from '../support/status.js';
import { useTempDir } from '../support/temp-dir.js';

const pcluster = (...args: string[]): Promise<{ stdout: string; stderr: string }> => promisify(execFile)(process.execPath, [CLI, ...args], { cwd: REPO_ROOT });
const failureOf = (run: Promise<unknown>): Promise<{ code: number; stdout: string; stderr: string } | undefined> =>
  run.then(() => undefined, (error: { code: number; stdout: string; stderr: string }) => error);

const WORKING_APP = `export default (req, res) => {
  req.db.query('SELECT 1 AS one').then((result) => res.end(String(result.rows[0].one)), () => { res.statusCode = 500; res.end(); });
};
`;
const BROKEN_APP = `throw new Error('broken deploy: missing config');\n`;

describe('a reload onto an app that throws at load is visible', () => {
  const tempDir = useTempDir('pcluster-visible-broken-deploy');

  it('reload --wait exits 1 naming the app\'s error; status, /status and /metrics show the failed boots; the old workers serve', async () => {
    const app = path.join(tempDir(), 'app.mjs');
    await writeFile(app, WORKING_APP);
    const cluster = await startCluster(app, { workers: 2 });
    const before = await clusterStatus(cluster);
    expect(before.reload, 'no reload yet').to.equal(null);

    await writeFile(app, BROKEN_APP);
    const reload = await failureOf(pcluster('reload', '--wait', '--name', cluster.name));
    expect(reload?.code, 'reload --wait fails').to.equal(1);
    expect(reload?.stderr.trimEnd().split('\n'), 'one line').to.have.length(1);
    expect(reload?.stderr).to.match(/^pcluster: reload to generation 2 failed: .*broken deploy: missing config; the older workers keep serving/);

    for (let i = 0; i < 10; i++) {
      const response = await fetch(`${cluster.url}/`, { signal: AbortSignal.timeout(5_000) });
      expect(response.status, 'the generation-1 workers still answer').to.equal(200);
      expect(await response.text()).to.equal('1');
    }

    const json = JSON.parse((await pcluster('status', '--json', '--name', cluster.name)).stdout) as StatusReport;
    expect(json.reload).to.include({ generation: 2, state: 'failed', workers: 2, booted: 0 });
    expect(json.reload!.failed).to.be.at.least(1);
    expect(json.reload!.lastError).to.include('broken deploy: missing config').and.not.include('\n');
    const serving = json.workers.filter((w) => w.state === 'ready');
    expect(serving.map((w) => [w.pid, w.generation]), 'the old workers serve').to.deep.equal(before.workers.map((w) => [w.pid, 1]));
    const fromHttp = await clusterStatus(cluster);
    expect(fromHttp.reload).to.include({ generation: 2, state: 'failed', lastError: json.reload!.lastError });

    const table = (await pcluster('status', '--name', cluster.name)).stdout.split('\n');
    expect(table[0], 'a retried replacement may be booting').to.match(/: \d workers, 2 serving \(ready, database open\), connection budget \d+\/3/);
    expect(table[1]).to.match(/^reload to generation 2: 0\/2 workers at generation 2, \d+ failed to boot \(last: .*broken deploy: missing config\); FAILED/);

    const metrics = await (await fetch(`${cluster.metricsUrl}/metrics`)).text();
    expect(metricValue(metrics, 'pcluster_worker_boot_failures_total'), 'boot failures counted').to.be.at.least(1);
    expect(metricValue(metrics, 'pcluster_worker_restarts_total{reason="reload"}'), 'no worker was replaced').to.equal(0);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
