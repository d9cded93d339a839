import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { parseBenchOptions } from '@pcluster/benchmarks/dist/bench-options.js';
import { parseWrkOutput } from '@pcluster/benchmarks/dist/load.js';
import { combineWindows, othersClosedWarning, warmUpRoutes, type Window } from '@pcluster/benchmarks/dist/measure.js';
import { overviewTable, ratioTable, targetsTable } from '@pcluster/benchmarks/dist/report.js';
import type { BenchRun } from '@pcluster/benchmarks/dist/bench-run.js';
import { CONTENDERS, WORKLOADS } from '@pcluster/benchmarks/dist/contenders.js';
import { updateResultsDoc, writeResultsDocs } from '@pcluster/benchmarks/dist/results-doc.js';
import { median, pairedRatio, quantile, roundRatios, summarise, type Measurement, type Summary } from '@pcluster/benchmarks/dist/summary.js';
import { checkTargets, TARGETS } from '@pcluster/benchmarks/dist/targets.js';

const WRK_REPORT = `Running 8s test @ http://127.0.0.1:40123/page
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.12ms    3.01ms  71.20ms   85.00%
    Req/Sec     1.80k   210.00     2.10k    70.00%
  Latency Distribution
     50%  850.00us
     75%   10.10ms
     90%   12.00ms
     99%    1.02s
  28800 requests in 8.10s, 5.10MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:   3555.56
Transfer/sec:    644.00KB
`;

const measurement = (overrides: Partial<Measurement>): Measurement => ({
  round: 1, contender: 'pcluster', workload: 'page', rps: 1000, p50Ms: 5, p99Ms: 20, requests: 8000, failures: 0,
  maxConnections: 2, peakRssBytes: 100e6, appCpuUsPerRequest: 200, dbCpuUsPerRequest: 100, ...overrides,
});

const summary = (contender: string, rps: number, more: Partial<Summary> = {}): Summary => ({
  contender, label: contender, workload: 'page', rounds: 3, rps, rpsMin: rps, rpsMax: rps, p50Ms: 5, p99Ms: 20,
  maxConnections: 2, peakRssBytes: 100e6, appCpuUsPerRequest: 200, dbCpuUsPerRequest: 100, failures: 0, ...more,
});

/** One round in which every summary's contender ran at its summary's rate. */
const oneRound = (summaries: readonly Summary[]): Measurement[] =>
  summaries.map((s) => measurement({ contender: s.contender, workload: s.workload, rps: s.rps }));

describe('benchmark arithmetic', () => {
  it('reads rate, percentiles in any unit, and failures from wrk --latency output', () => {
    expect(parseWrkOutput(WRK_REPORT)).to.deep.equal({
      tool: 'wrk', requestsPerSecond: 3555.56, p50Ms: 0.85, p99Ms: 1020, requests: 28800, failures: 2 + 3 + 4,
    });
  });

  it('takes nearest-rank quantiles for the spread of interleaved pairs', () => {
    const ratios = [0.9, 0.7, 1.1, 0.8, 1.0, 1.2, 0.95, 1.05];
    expect([0, 0.25, 0.5, 0.75, 1].map((share) => quantile(ratios, share))).to.deep.equal([0.7, 0.8, 0.95, 1.05, 1.2]);
    expect(quantile([3], 0.25)).to.equal(3);
    expect(quantile([], 0.5)).to.be.NaN;
    expect(ratios, 'the input is not reordered').to.deep.equal([0.9, 0.7, 1.1, 0.8, 1.0, 1.2, 0.95, 1.05]);
  });

  it('summarises rounds as medians of rates and latencies and maxima of resources', () => {
    expect(median([3, 1, 2])).to.equal(2);
    expect(median([4, 1, 3, 2])).to.equal(2.5);
    const [only, ...rest] = summarise([{ id: 'pcluster', label: 'pcluster' } as never], ['page', 'write'], [
      measurement({ round: 1, rps: 900, p99Ms: 30, maxConnections: 2, peakRssBytes: 90e6 }),
      measurement({ round: 2, rps: 1100, p99Ms: 10, maxConnections: 3, failures: 1 }),
      measurement({ round: 3, rps: 1000, p99Ms: 20, peakRssBytes: 120e6, failures: 2, appCpuUsPerRequest: 260 }),
    ]);
    expect(rest, 'no /write measurements, so no /write summary').to.be.empty;
    expect(only).to.include({ rounds: 3, rps: 1000, rpsMin: 900, rpsMax: 1100, p99Ms: 20, maxConnections: 3, peakRssBytes: 120e6, failures: 3, appCpuUsPerRequest: 200 });
  });

  it('judges each target as pcluster ÷ the alternative on its route, and PM2 also on connections and p99', () => {
    const pm2 = summary('pm2-pool', 1000, { maxConnections: 20, p99Ms: 40 });
    const check = (ours: Summary) => checkTargets([ours, pm2], oneRound([ours, pm2])).find((c) => c.against === 'pm2-pool')!;
    expect(check(summary('pcluster', 2200, { maxConnections: 2, p99Ms: 39 }))).to.include({ ratio: 2.2, workload: 'page', isMet: true });
    expect(check(summary('pcluster', 2199, { maxConnections: 2, p99Ms: 39 })).isMet, 'ratio just short').to.equal(false);
    expect(check(summary('pcluster', 3000, { maxConnections: 3, p99Ms: 39 })).isMet, 'more than 1/10 of its connections').to.equal(false);
    expect(check(summary('pcluster', 3000, { maxConnections: 2, p99Ms: 40 })).isMet, 'a p99 no better').to.equal(false);

    const summaries = [
      summary('pcluster', 900), summary('hand-rolled-pipeline', 1000), summary('postgresjs-1', 1200), summary('pcluster-import-db', 800),
      summary('pcluster', 990, { workload: 'write' }), summary('pcluster-depth-1', 1000, { workload: 'write' }),
      summary('pcluster', 950, { workload: 'nodb' }), summary('pcluster-depth-1', 1000, { workload: 'nodb' }),
    ];
    const checks = checkTargets(summaries, oneRound(summaries));
    expect(checks.map((c) => [c.against, c.workload, c.isMet])).to.deep.equal([
      ['hand-rolled-pipeline', 'page', true],
      ['postgresjs-1', 'page', undefined],
      ['pcluster-depth-1', 'write', false],
      ['pcluster-depth-1', 'nodb', true],
    ]);
    expect(checks[1], 'a reported ratio has no threshold').to.not.have.any.keys('minRatio', 'roundsMet');
    expect(checks[1]!.ratio).to.equal(0.75);
  });

  it('tabulates pcluster ÷ each alternative per route, with a dash where either side was not measured', () => {
    const contenders = ['pcluster', 'original-recipe', 'pgbench-prepared'].map((id) => ({ id, label: id }));
    const table = ratioTable(oneRound([summary('pcluster', 3000), summary('original-recipe', 1500), summary('pgbench-prepared', 6000),
      summary('pcluster', 900, { workload: 'write' }), summary('original-recipe', 1000, { workload: 'write' })]), contenders, ['page', 'write']);
    expect(table.header).to.deep.equal(['pcluster ÷', '/page', '/write']);
    expect(table.rows).to.deep.equal([['original-recipe', '2.00×', '0.90×'], ['pgbench-prepared', '0.50×', '–']]);
  });

  it('shows one row per contender for the reader: req/s per route, and the first route\'s latencies and costs', () => {
    const contenders = [{ id: 'pcluster', label: 'pcluster' }, { id: 'pgbench-prepared', label: 'pgbench' }, { id: 'floor', label: 'floor' }];
    const table = overviewTable([
      summary('pcluster', 3000, { p99Ms: 12.5, maxConnections: 2 }), summary('pcluster', 900, { workload: 'write', maxConnections: 3, failures: 1 }),
      summary('pgbench-prepared', 6000, { appCpuUsPerRequest: Number.NaN }),
    ], contenders, ['page', 'write']);
    expect(table.header).to.deep.equal(['contender', '/page req/s', '/write req/s', '/page p50 ms', '/page p99 ms', 'max conns', 'peak RSS MB', 'CPU µs per /page: app + PostgreSQL', 'failures']);
    expect(table.rows, 'a contender without measurements is left out').to.deep.equal([
      ['pcluster', '3000', '900', '5.00', '12.5', '3', '95', '200 + 100', '1'],
      ['pgbench', '6000', '–', '5.00', '20.0', '2', '95', '– + 100', '0'],
    ]);
  });

  it('pairs rates round by round for a ratio, so a drift between rounds does not enter it', () => {
    const rounds = (contender: string, rates: number[]) => rates.map((rps, i) => measurement({ round: i + 1, contender, rps }));
    // Medians alone would say 1000 ÷ 1050 = 0.95; in every round but the third pcluster was ~10% slower.
    const measurements = [...rounds('pcluster', [900, 1000, 2000]), ...rounds('hand-rolled', [1000, 1100, 1050])];
    expect(pairedRatio(measurements, 'pcluster', 'hand-rolled', 'page')).to.be.closeTo(1000 / 1100, 1e-9);
    expect(pairedRatio(measurements, 'pcluster', 'hand-rolled', 'write'), 'no round measured both').to.be.NaN;
    const third = rounds('hand-rolled', [1000, 1100, 1050]).slice(2);
    expect(pairedRatio([...rounds('pcluster', [900, 1000, 2000]), ...third], 'pcluster', 'hand-rolled', 'page'), 'only round 3 has both').to.be.closeTo(2000 / 1050, 1e-9);
  });

  it('shows each target\'s per-round ratios next to its verdict, so a verdict that noise decided reads as one', () => {
    const rounds = (contender: string, rates: number[]) => rates.map((rps, i) => measurement({ round: i + 1, contender, rps }));
    // Round order as measured, not as stored.
    expect(roundRatios([...rounds('pcluster', [900, 1000, 2000]).reverse(), ...rounds('hand-rolled', [1000, 1000, 1000])], 'pcluster', 'hand-rolled', 'page'))
      .to.deep.equal([0.9, 1, 2]);
    const measurements = [...rounds('pcluster', [800, 1000, 2000]), ...rounds('hand-rolled-pipeline', [1000, 1000, 1000])];
    const summaries = [summary('pcluster', 1000), summary('hand-rolled-pipeline', 1000)];
    const [check] = checkTargets(summaries, measurements);
    expect(check).to.deep.include({ ratio: 1, roundRange: { min: 0.8, max: 2 }, roundsMet: 2, rounds: 3, isMet: true });
    expect(targetsTable([check!], [{ id: 'hand-rolled-pipeline', label: 'the ceiling' }]).rows).to.deep.equal([
      ['the ceiling', '/page', '≥ 0.9× (supervisor overhead ≤ 10%)', '1.00×', '0.80×–2.00×, ≥ 0.9× in 2 of 3', 'met'],
    ]);
  });

  it('measures a route in windows of at least 2 s, up to 4 of them', () => {
    const windows = (argv: string[]): [number, number] => {
      const options = parseBenchOptions(argv);
      return [options.windows, options.windowSeconds];
    };
    expect(windows([]), 'full run: 8 s').to.deep.equal([4, 2]);
    expect(windows(['--quick'])).to.deep.equal([1, 2]);
    expect(windows(['--smoke'])).to.deep.equal([1, 1]);
    expect(windows(['--seconds', '5'])).to.deep.equal([2, 2]);
    expect(windows(['--seconds', '20'])).to.deep.equal([4, 5]);
  });

  it('loads a route unmeasured right before each window of a full run, not in the quick and smoke runs', () => {
    const rewarm = (argv: string[]): number => parseBenchOptions(argv).rewarmSeconds;
    expect(rewarm([])).to.equal(1);
    expect(rewarm(['--quick'])).to.equal(0);
    expect(rewarm(['--smoke'])).to.equal(0);
    expect(rewarm(['--rewarm', '0'])).to.equal(0);
    expect(rewarm(['--quick', '--rewarm', '2'])).to.equal(2);
  });

  it('warms /nodb up only when it is measured before the routes that run all it runs', () => {
    expect(warmUpRoutes(['page', 'write', 'nodb'])).to.deep.equal(['page', 'write']);
    expect(warmUpRoutes(['write', 'nodb'])).to.deep.equal(['write']);
    expect(warmUpRoutes(['nodb'])).to.deep.equal(['nodb']);
    expect(warmUpRoutes(['nodb', 'page'])).to.deep.equal(['nodb', 'page']);
  });

  it('makes one round\'s measurement of its windows: the rate over their time, the median latencies, the worst resources', () => {
    const window = (requests: number, seconds: number, more: Partial<Window> = {}): Window => ({
      requests, seconds, failures: 0, p50Ms: 5, p99Ms: 20, maxConnections: 2, peakRssBytes: 100e6, appCpuMs: requests / 5, dbCpuMs: requests / 10,
      othersClosed: 0, ...more,
    });
    const m = combineWindows(2, 'pcluster', 'page', [
      window(3000, 2, { p50Ms: 4, p99Ms: 30, othersClosed: 20 }), window(5000, 2, { p50Ms: 6, p99Ms: 10, failures: 1 }),
      window(4000, 2, { maxConnections: 3, peakRssBytes: 120e6 }),
    ]);
    expect(m).to.deep.include({ round: 2, contender: 'pcluster', workload: 'page', requests: 12_000, failures: 1, maxConnections: 3, peakRssBytes: 120e6 });
    expect(m.rps).to.equal(2000);
    expect([m.p50Ms, m.p99Ms]).to.deep.equal([5, 20]);
    expect([m.appCpuUsPerRequest, m.dbCpuUsPerRequest]).to.deep.equal([200, 100]);
    expect(m.windows, 'every window kept, in order').to.deep.equal([
      { rps: 1500, p50Ms: 4, p99Ms: 30, othersClosed: 20 }, { rps: 2500, p50Ms: 6, p99Ms: 10, othersClosed: 0 },
      { rps: 2000, p50Ms: 5, p99Ms: 20, othersClosed: 0 },
    ]);
    expect(combineWindows(1, 'x', 'page', [window(1000, 1), window(1000, 3)]).rps, 'not the mean of the windows\' rates').to.equal(500);
  });

  it('warns about a window in which other contenders closed a pool\'s worth of connections, not about a straggler', () => {
    expect(othersClosedWarning('pcluster', 'write', { othersClosed: 20 })).to.match(/^warning: 20 connections of other contenders closed during a \/write window of pcluster;/);
    expect(othersClosedWarning('pcluster', 'write', { othersClosed: 4 })).to.equal(undefined);
    expect(othersClosedWarning('pcluster', 'write', { othersClosed: 0 })).to.equal(undefined);
  });

  it('leaves diagnostic contenders out of full and quick runs unless they are named', () => {
    const ids = (argv: string[]): string[] => parseBenchOptions(argv).contenders.map((c) => c.id);
    expect(ids([])).to.include('hand-rolled').and.not.include('hand-rolled-pcluster-path');
    expect(ids(['--quick'])).to.not.include('hand-rolled-pcluster-path');
    expect(ids(['--contenders', 'hand-rolled,hand-rolled-pcluster-path'])).to.deep.equal(['hand-rolled', 'hand-rolled-pcluster-path']);
  });

  describe('RESULTS.md', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'pcluster-results-doc-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('gets the generated section before the hand-written ones, then has only that section replaced', () => {
      const file = path.join(dir, 'RESULTS.md');
      writeFileSync(file, '# Results\n\nIntro.\n\n## Hand-written\n\nKept.\n');
      updateResultsDoc(file, 'first run');
      const once = readFileSync(file, 'utf8');
      expect(once.indexOf('first run')).to.be.within(once.indexOf('Intro.'), once.indexOf('## Hand-written'));
      updateResultsDoc(file, 'second run');
      const twice = readFileSync(file, 'utf8');
      expect(twice).to.equal(once.replace('first run', 'second run'));
    });

    it('is a report of under 200 lines for a full run of every contender, kept above a hand-written "where the time goes"', () => {
      const contenders = CONTENDERS.filter((c) => c.isDiagnostic !== true);
      const measurements = [1, 2, 3].flatMap((round) => contenders.flatMap((c, i) =>
        WORKLOADS.filter((w) => c.kind === 'http' || w === 'page').map((workload) => measurement({ round, contender: c.id, workload, rps: 1000 + 100 * i + round }))));
      const summaries = summarise(contenders, WORKLOADS, measurements);
      const run: BenchRun = {
        date: '2026-12-24T10:00:00.000Z', command: 'npm run bench', resultsName: '2026-12-24',
        machine: { cores: 2, cpuModel: 'AMD EPYC', memoryGb: 24, kernel: 'Linux 6.1.0', node: '20.20.2', postgres: '15.18', loadTool: 'wrk 4.1.0' },
        settings: { mode: 'full', rounds: 3, seconds: 8, windows: 4, windowSeconds: 2, warmupSeconds: 3, rewarmSeconds: 1, workers: 2, connections: 32, workloads: WORKLOADS },
        contenders: contenders.map(({ id, label, description, kind }) => ({ id, label, description, kind })),
        measurements, summaries, targets: checkTargets(summaries, measurements), supervisor: {},
      };
      writeResultsDocs(run, dir);
      const doc = readFileSync(path.join(dir, 'RESULTS.md'), 'utf8');
      expect(doc.split('\n').length).to.be.below(200);
      expect(run.targets.map((t) => t.against), 'every target has its alternative in a full run').to.deep.equal(TARGETS.map((t) => t.against));
      for (const heading of ['## Targets (issue 25)', '## Results', '## The machine and the method', '## How to reproduce']) expect(doc).to.include(heading);
      expect(doc).to.include('Linux 6.1.0').and.include('wrk 4.1.0').and.include('`npm run bench`');
      const handWritten = doc.indexOf('## Where the time goes');
      expect(handWritten, 'the hand-written section follows the generated one').to.be.greaterThan(doc.indexOf('<!-- bench:end -->'));
      writeFileSync(path.join(dir, 'RESULTS.md'), doc.replace('_Written by hand', 'Measured: 12 µs per statement. _Written by hand'));
      writeResultsDocs({ ...run, date: '2026-12-25T10:00:00.000Z' }, dir);
      const again = readFileSync(path.join(dir, 'RESULTS.md'), 'utf8');
      expect(again).to.include('Measured: 12 µs per statement.').and.include('2026-12-25');
      expect(readFileSync(path.join(dir, 'chart.svg'), 'utf8')).to.match(/^<svg /);
    });
  });
});
