/**
 * Soak: the chaos schedule at a lower rate, for as long as asked, under keep-alive load.
 *   npm run soak -- --minutes 60 [--steady] [--warmup 10] [--sample-every 1] [--out DIR] [--no-warmup-snapshots]
 * `--steady` keeps every worker alive (terminated backends and short event-loop blocks only), so
 * that the workers' own memory can be followed; the chaos schedule replaces them every few minutes.
 * Memory (RSS and V8 heap in use of the primary and each worker, from /metrics) is sampled every
 * `--sample-every` minutes into DIR/samples.json; heap snapshots are written into DIR after the
 * warm-up (the primary and, steady, worker 1; not with `--no-warmup-snapshots`, which leaves every RSS series undisturbed) and at the end (the primary and, steady, every worker). Prints a summary: requests, failures by
 * cause, the most connections PostgreSQL ever showed for the cluster against the budget, a memory
 * table every 5 minutes and each process's slope in MB/hour after the warm-up.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { startPostgres } from 'pcluster/postgres';
import { CLI, REPO_ROOT, startCluster, fixture, killAllClusters } from '../support/cluster-process.js';
import { sampleConnections } from '../support/connection-sampler.js';
import { startLoad } from '../support/load.js';
import { clusterStatus } from '../support/status.js';
import { waitFor } from '../support/wait-for.js';
import { heapSnapshotEnv, sampleMemory, slopeMbPerHour, writeHeapSnapshots, type MemorySample } from './memory-sampler.js';

const arg = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const MINUTES = Number(arg('minutes') ?? 10);
const IS_STEADY = process.argv.includes('--steady');
const IS_WARMUP_SNAPSHOT = !process.argv.includes('--no-warmup-snapshots');
const WARMUP_MINUTES = Number(arg('warmup') ?? Math.min(10, MINUTES / 2));
const SAMPLE_EVERY_MINUTES = Number(arg('sample-every') ?? 1);
const OUT = path.resolve(arg('out') ?? path.join(os.tmpdir(), `pcluster-soak-${new Date().toISOString().replace(/[:.]/g, '-')}`));
const WORKERS = 3;
const BUDGET = 5;
const EVENT_EVERY_MS = 20_000;

mkdirSync(OUT, { recursive: true });
console.log(`soak: ${MINUTES} min, ${IS_STEADY ? 'steady' : 'chaos'} schedule, samples and heap snapshots in ${OUT}`);
const server = await startPostgres({ maxConnections: 50 });
process.env['PCLUSTER_TEST_DATABASE_URL'] = server.connectionString;
const admin = new pg.Client({ connectionString: server.connectionString });
await admin.connect();
try {
  // Steady: a long --timeout, so that a worker writing its heap snapshot is not taken for hung.
  const timeout = IS_STEADY ? '30s' : '3s';
  const cluster = await startCluster(fixture('routes.mjs'), {
    workers: WORKERS, args: ['--max-connections', String(BUDGET), '--timeout', timeout], env: heapSnapshotEnv(OUT),
  });
  const pcluster = (...args: string[]) => promisify(execFile)(process.execPath, [CLI, ...args, '--name', cluster.name], { cwd: REPO_ROOT });
  const settled = (workers: number) => waitFor(async () => {
    const status = await clusterStatus(cluster);
    return status.workers.length === workers && status.workers.every((w) => w.state === 'ready');
  }, 120_000, `${workers} ready workers`);
  const workerPid = async (index: number) => (await clusterStatus(cluster)).workers[index]!.pid!;
  const backendOf = async (index: number) => (await clusterStatus(cluster)).workers[index]!.db.backendPid;
  // Writing a snapshot raises a process's RSS for good (by ~60 MB: the allocator keeps what the snapshot used), so
  // after the warm-up only the primary and worker 1 are snapshotted; workers 2 and 3 keep an undisturbed RSS series.
  const snapshotPids = async (isEnd: boolean) => [
    cluster.child.pid!,
    ...(IS_STEADY ? (await clusterStatus(cluster)).workers.filter((w) => isEnd || w.slot === 1).map((w) => w.pid!) : []),
  ];
  const sampler = sampleConnections(admin, cluster.name, 50);
  const load = startLoad(`${cluster.url}/page`, 12, MINUTES * 60 + 120);
  const startedAt = Date.now();
  const minutesSoFar = () => (Date.now() - startedAt) / 60_000;

  const samples: MemorySample[] = [];
  const snapshots: string[] = [];
  const recordMemory = async () => {
    samples.push(await sampleMemory(cluster.metricsUrl, minutesSoFar()));
    writeFileSync(path.join(OUT, 'samples.json'), `${JSON.stringify(samples, null, 1)}\n`);
  };
  const memoryLoop = (async () => {
    let isSnapshotTaken = !IS_WARMUP_SNAPSHOT;
    for (let next = 0; next < MINUTES; next += SAMPLE_EVERY_MINUTES) {
      await sleep(Math.max(0, startedAt + next * 60_000 - Date.now()));
      await recordMemory();
      if (!isSnapshotTaken && next >= WARMUP_MINUTES) {
        isSnapshotTaken = true;
        console.log(`${minutesSoFar().toFixed(1)} min: heap snapshots`);
        snapshots.push(...(await writeHeapSnapshots(OUT, await snapshotPids(false))));
        console.log(`${minutesSoFar().toFixed(1)} min: heap snapshots written`);
      }
    }
  })();

  const schedule: [string, () => Promise<unknown>][] = IS_STEADY ? [
    ['pg_terminate_backend', async () => admin.query('SELECT pg_terminate_backend($1)', [await backendOf(0)])],
    ['block an event loop for 1 s', async () => void fetch(`${cluster.url}/block?ms=1000`).then((r) => r.text(), () => undefined)],
    ['pg_terminate_backend', async () => admin.query('SELECT pg_terminate_backend($1)', [await backendOf(WORKERS - 1)])],
  ] : [
    ['SIGKILL a worker', async () => process.kill(await workerPid(0), 'SIGKILL')],
    ['pg_terminate_backend', async () => admin.query('SELECT pg_terminate_backend($1)', [await backendOf(1)])],
    ['block an event loop past --timeout', async () => void fetch(`${cluster.url}/block?ms=6000`).then((r) => r.text(), () => undefined)],
    ['rolling reload', () => pcluster('reload')],
    ['scale to 4', () => pcluster('scale', '4')],
    ['scale to 3', () => pcluster('scale', '3')],
  ];
  const events = new Map<string, number>();
  const until = startedAt + MINUTES * 60_000;
  const pidsAtStart = (await clusterStatus(cluster)).workers.map((w) => w.pid);
  for (let i = 0; Date.now() < until; i++) {
    await sleep(Math.min(EVENT_EVERY_MS, Math.max(0, until - Date.now())));
    if (Date.now() >= until) break;
    const [name, run] = schedule[i % schedule.length]!;
    console.log(`${minutesSoFar().toFixed(1)} min: ${name}`);
    await run();
    events.set(name, (events.get(name) ?? 0) + 1);
    await settled(name === 'scale to 4' ? 4 : WORKERS);
  }
  await memoryLoop;
  await recordMemory();
  snapshots.push(...(await writeHeapSnapshots(OUT, await snapshotPids(true))));
  const pidsAtEnd = (await clusterStatus(cluster)).workers.map((w) => w.pid);
  const outcome = await load.stop();
  const connections = await sampler.stop();
  const code = (await cluster.stop()).code;
  const left = (await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE $1', [`pcluster:${cluster.name}:%`])).rows[0].n;

  const names = Object.keys(samples.at(-1)!.rssMb);
  const everyFive = samples.filter((s) => Math.abs(s.minute / 5 - Math.round(s.minute / 5)) < 0.1 || s === samples.at(-1));
  const table = everyFive.map((s) => `${String(Math.round(s.minute)).padStart(4)}  ${names.map((n) => `${n}: ${s.rssMb[n] ?? '-'} / ${s.heapUsedMb[n] ?? '-'}`).join('   ')}`);
  // From the first sample after the warm-up's snapshots (they raise the RSS of the primary and worker 1 once).
  const fromMinute = WARMUP_MINUTES + SAMPLE_EVERY_MINUTES / 2;
  const slopes = Object.fromEntries(names.map((n) => [n, {
    rssMbPerHour: slopeMbPerHour(samples, (s) => s.rssMb[n], fromMinute),
    heapUsedMbPerHour: slopeMbPerHour(samples, (s) => s.heapUsedMb[n], fromMinute),
  }]));
  const summary = {
    minutes: MINUTES,
    schedule: IS_STEADY ? 'steady' : 'chaos',
    requests: outcome.requests,
    failures: outcome.failures,
    failuresByCause: outcome.causes,
    statusCodes: outcome.statusCodes,
    events: Object.fromEntries(events),
    maxConnections: `${connections.max}/${BUDGET} (${connections.samples} samples every 50 ms)`,
    workersReplaced: pidsAtStart.filter((pid) => !pidsAtEnd.includes(pid)).length,
    slopesAfterWarmup: slopes,
    heapSnapshots: snapshots,
    exitCode: code,
    connectionsLeftAfterStop: left,
  };
  console.log(`minute  process: RSS / heap used (MB)\n${table.join('\n')}`);
  console.log(JSON.stringify(summary, null, 2));
  writeFileSync(path.join(OUT, 'summary.json'), `${JSON.stringify({ ...summary, table }, null, 2)}\n`);
  process.exitCode = connections.max <= BUDGET && left === 0 && code === 0 ? 0 : 1;
} finally {
  await killAllClusters();
  await admin.end();
  await server.destroy();
}
