import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { REPO_ROOT } from '../support/cluster-process.js';

interface SmokeResults {
  readonly settings: { readonly mode: string };
  readonly summaries: readonly { readonly contender: string; readonly workload: string; readonly rps: number; readonly maxConnections: number }[];
}

describe('npm run bench', () => {
  let resultsDir: string;
  beforeEach(() => {
    resultsDir = mkdtempSync(path.join(os.tmpdir(), 'pcluster-bench-smoke-'));
  });
  afterEach(() => rmSync(resultsDir, { recursive: true, force: true }));

  it('runs end to end in its smoke mode and writes a results JSON with a positive rate for every contender', async function () {
    this.timeout(120_000);
    // Its own PostgreSQL, 1 round of 1 s on /page: pcluster, node:cluster + Pool(10) and pgbench.
    await promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'benchmarks/dist/bench.js'), '--smoke', '--results-dir', resultsDir], {
      cwd: REPO_ROOT,
      maxBuffer: 16 << 20,
    });
    const files = readdirSync(resultsDir).filter((file) => file.endsWith('.json'));
    expect(files, 'one results file').to.have.length(1);
    const results = JSON.parse(readFileSync(path.join(resultsDir, files[0]!), 'utf8')) as SmokeResults;
    expect(results.settings.mode).to.equal('smoke');
    const measured = results.summaries.map((s) => s.contender);
    expect(measured).to.include.members(['pcluster', 'cluster-pool']);
    for (const summary of results.summaries) {
      expect(summary.workload).to.equal('page');
      expect(summary.rps, `${summary.contender} req/s`).to.be.greaterThan(0);
      expect(summary.maxConnections, `${summary.contender} connections seen in pg_stat_activity`).to.be.greaterThan(0);
    }
  });
});
