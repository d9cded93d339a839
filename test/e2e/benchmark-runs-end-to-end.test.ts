import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { isAlive, killAll, processTree } from '@pcluster/benchmarks/dist/process-tree.js';
import { REPO_ROOT } from '../support/cluster-process.js';
import { waitFor } from '../support/wait-for.js';

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

  // Interrupted while it starts its contenders or once they run: nothing it started may outlive it, whether it is
  // given time to stop them (one signal) or told twice (a second Ctrl-C, or `timeout` passing its signal on).
  const cases = [
    { signals: ['SIGINT'], when: 'while its contenders start', after: /^pcluster benchmark \(full\)/m },
    { signals: ['SIGINT'], when: 'once it measures', after: /^round 1\/2 /m },
    { signals: ['SIGTERM', 'SIGTERM'], when: 'once it measures', after: /^round 1\/2 /m },
  ] as const;
  for (const { signals, when, after } of cases) {
    it(`leaves no process behind when interrupted by ${signals.join(' + ')} ${when}`, async function () {
      this.timeout(120_000);
      const bench = spawn(process.execPath, [path.join(REPO_ROOT, 'benchmarks/dist/bench.js'), '--contenders', 'pcluster,cluster-pool', '--workloads', 'page',
        '--rounds', '2', '--seconds', '4', '--no-supervisor', '--no-docs', '--results-dir', resultsDir], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group, which whatever it starts joins (but PM2's daemon): if it fails to clean up, this test still can.
        detached: true,
      });
      let output = '';
      bench.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      bench.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      const exited = new Promise<number | null>((resolve) => bench.once('exit', (code) => resolve(code)));
      // 'close' comes once no process holds its stdout and stderr any more: every process it spawned inherits its stderr,
      // so this also catches one it started after the processes listed below (a contender still starting when signalled).
      const closed = new Promise<void>((resolve) => bench.once('close', () => resolve()));
      let started: number[] = [];
      let serverDirs: string[] = [];
      try {
        await waitFor(() => after.test(output), 90_000, `output matching ${after}`).catch((error: Error) => {
          throw new Error(`${error.message}; its output: ${output.slice(-500)}`);
        });
        started = (await processTree(bench.pid!)).slice(1);
        const commandLine = (pid: number): string => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
          } catch {
            return ''; // gone since (a load run ending)
          }
        };
        const postmaster = started.map(commandLine).find((line) => / -D /.test(line));
        expect(postmaster, 'its PostgreSQL is among the processes it started').to.not.equal(undefined);
        // Its data and socket directories: a killed server leaves them, and the test removes them.
        serverDirs = [...postmaster!.matchAll(/ -[Dk] (\S+)/g)].map((match) => match[1]!);
        for (const [i, signal] of signals.entries()) {
          // The second once the first is being handled (two pending signals of a kind are delivered as one).
          if (i > 0) await waitFor(() => /stopping every contender/.test(output), 10_000, 'the first signal handled');
          bench.kill(signal);
        }
        expect(await exited, output.slice(-500)).to.equal(130);
        const isClosed = await Promise.race([closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000).unref())]);
        expect(isClosed, 'no process it started still holds its output 15 s after it exited').to.equal(true);
        await waitFor(() => !started.some(isAlive), 15_000, 'every process it started gone').catch((error: Error) => {
          throw new Error(`${error.message}; still alive: ${started.filter(isAlive).join(', ')}`);
        });
      } finally {
        killAll([bench.pid!, ...started]);
        try {
          process.kill(-bench.pid!, 'SIGKILL');
        } catch {
          // the group is empty: nothing left behind
        }
        for (const dir of serverDirs) rmSync(dir, { recursive: true, force: true });
      }
    });
  }

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
