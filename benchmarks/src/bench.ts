/**
 * pcluster against the alternatives, in one run with the contenders taking turns round by round
 * and window by window (issues 6 and 25). `npm run bench` (full: updates RESULTS.md and chart.svg),
 * `npm run bench:quick`, or `node benchmarks/dist/bench.js --help`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startPostgres } from 'pcluster/postgres';
import { parseBenchOptions } from './bench-options.js';
import type { BenchRun } from './bench-run.js';
import { stopAll, trackServer } from './cleanup.js';
import { BENCH_ROOT, sleep } from './contender.js';
import { wrkVersion } from './load.js';
import { combineWindows, othersClosedWarning, startSubjects, stopSubjects, type MeasureContext, type Subject, type Window } from './measure.js';
import { ratioTable, renderText, resultsTable, supervisorTable, targetsTable } from './report.js';
import { writeResultsDocs } from './results-doc.js';
import { connectionCount } from './samplers.js';
import { seed } from './seed.js';
import { summarise, type Measurement } from './summary.js';
import { timePcluster, timePm2, type SupervisorTimings } from './supervisor-timings.js';
import { checkTargets } from './targets.js';
import { findPgbench } from './pgbench.js';

const parsed = parseBenchOptions(process.argv.slice(2));
const command = process.env['npm_lifecycle_event']?.startsWith('bench')
  ? `npm run ${process.env['npm_lifecycle_event']}`
  : `node benchmarks/dist/bench.js ${process.argv.slice(2).join(' ')}`.trim();

async function loadTool(): Promise<string> {
  return (await wrkVersion()) ?? `autocannon ${createRequire(import.meta.url)('autocannon/package.json').version as string}`;
}

/** Waits until the previous round's backends are gone, so they do not weigh on the next. */
async function waitForNoConnections(admin: pg.Client, database: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const left = await connectionCount(admin, database);
    if (left === 0) return;
    if (Date.now() > deadline) return console.warn(`warning: ${left} connections still open before the next contender`);
    await sleep(100);
  }
}

const labelWidth = Math.max(...parsed.contenders.map((c) => c.label.length));
const line = (m: Measurement, label: string): string =>
  `${label.padEnd(labelWidth)} /${m.workload.padEnd(5)} ${m.rps.toFixed(0).padStart(6)} req/s  p50 ${m.p50Ms.toFixed(2).padStart(6)} ms  p99 ${m.p99Ms.toFixed(2).padStart(7)} ms  ` +
  `conns ${String(m.maxConnections).padStart(2)}  RSS ${Math.round(m.peakRssBytes / 1_048_576)} MB  CPU µs/req ${m.appCpuUsPerRequest.toFixed(0)} + PostgreSQL ${m.dbCpuUsPerRequest.toFixed(0)}` +
  `${m.failures > 0 ? `  FAILURES ${m.failures}` : ''}`;

const server = await startPostgres({ maxConnections: 100 });
const hasPgbench = findPgbench(server.binDir) !== undefined;
if (!hasPgbench && parsed.contenders.some((c) => c.kind === 'pgbench')) console.warn('warning: no pgbench binary found; the pgbench contenders are skipped');
const options = { ...parsed, contenders: parsed.contenders.filter((c) => hasPgbench || c.kind !== 'pgbench') };
const untrackServer = trackServer(server);
const admin = new pg.Client({ connectionString: server.connectionString });
try {
  await admin.connect();
  await seed(server.connectionString);
  const { contenders, workloads, rounds } = options;
  console.log(`pcluster benchmark (${options.mode}): ${contenders.length} contenders × ${workloads.map((w) => `/${w}`).join(' ')}, ` +
    `${rounds} round(s) of ${options.seconds} s, ${options.workers} workers, ${options.connections} connections; PostgreSQL ${server.version}\n`);
  const measurements: Measurement[] = [];
  // Each round's measured seconds per route come in windows (4 × 2 s in a full run), the contenders taking turns
  // window by window, so the windows compared are seconds apart rather than minutes (this machine drifts ±20% in that time).
  const { windows: slices, windowSeconds } = options;
  const context: MeasureContext = { server, admin, workers: options.workers, connections: options.connections, warmupSeconds: options.warmupSeconds, rewarmSeconds: options.rewarmSeconds };
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? contenders : [...contenders].reverse();
    const subjects = await startSubjects(order, context);
    try {
      for (const subject of subjects) await subject.warmUp(workloads);
      for (const workload of workloads) {
        const here = subjects.filter((subject) => subject.serves(workload));
        const windows = new Map<Subject, Window[]>(here.map((subject) => [subject, []]));
        for (let slice = 0; slice < slices; slice++) {
          // Every contender takes a different place in the order from one window to the next.
          const shift = Math.floor((slice * here.length) / slices);
          for (const subject of [...here.slice(shift), ...here.slice(0, shift)]) {
            const measured = await subject.measure(workload, windowSeconds);
            const warning = othersClosedWarning(subject.contender.label, workload, measured);
            if (warning !== undefined) console.warn(warning);
            windows.get(subject)!.push(measured);
          }
        }
        for (const [subject, measured] of windows) {
          const m = combineWindows(round, subject.contender.id, workload, measured);
          console.log(`round ${round}/${rounds}  ${line(m, subject.contender.label)}`);
          measurements.push(m);
        }
      }
    } finally {
      await stopSubjects(subjects);
    }
    await waitForNoConnections(admin, server.database);
  }
  const supervisor: { pcluster?: SupervisorTimings; pm2?: SupervisorTimings } = {};
  if (options.supervisorWorkers > 0) {
    console.log(`\nsupervisor timings with ${options.supervisorWorkers} workers…`);
    supervisor.pcluster = await timePcluster(server.connectionString, options.supervisorWorkers);
    await waitForNoConnections(admin, server.database);
    supervisor.pm2 = await timePm2(server.connectionString, options.supervisorWorkers);
  }
  const summaries = summarise(contenders, workloads, measurements);
  const run: BenchRun = {
    date: new Date().toISOString(),
    command,
    resultsName: options.resultsName,
    machine: {
      cores: os.availableParallelism(), cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30), kernel: `${os.type()} ${os.release()}`,
      node: process.versions.node, postgres: server.version, loadTool: await loadTool(),
    },
    settings: { mode: options.mode, rounds, seconds: options.seconds, windows: slices, windowSeconds, warmupSeconds: options.warmupSeconds, rewarmSeconds: options.rewarmSeconds, workers: options.workers, connections: options.connections, workloads },
    contenders: contenders.map(({ id, label, description, kind }) => ({ id, label, description, kind })),
    measurements,
    summaries,
    targets: checkTargets(summaries, measurements),
    supervisor,
  };
  console.log(`\n${renderText(resultsTable(summaries))}\n\n${renderText(ratioTable(measurements, contenders, workloads))}`);
  if (run.targets.length > 0) console.log(`\n${renderText(targetsTable(run.targets, contenders))}`);
  if (options.supervisorWorkers > 0) console.log(`\n${renderText(supervisorTable(supervisor.pcluster, supervisor.pm2))}`);
  mkdirSync(options.resultsDir, { recursive: true });
  const resultsFile = path.join(options.resultsDir, `${options.resultsName}.json`);
  writeFileSync(resultsFile, `${JSON.stringify(run, null, 2)}\n`);
  console.log(`\nresults: ${path.relative(process.cwd(), resultsFile)}`);
  if (options.writesDocs) {
    writeResultsDocs(run, BENCH_ROOT);
    console.log('updated: benchmarks/RESULTS.md, benchmarks/chart.svg');
  }
} finally {
  untrackServer();
  await stopAll();
  await admin.end().catch(() => {});
  await server.destroy();
}
