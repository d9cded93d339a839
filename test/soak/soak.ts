/**
 * Soak: the chaos schedule at a lower rate, for as long as asked, under keep-alive load.
 *   npm run soak -- --minutes 30
 * Prints a summary: requests, failures by cause, the most connections PostgreSQL ever
 * showed for the cluster against the budget, and primary and worker RSS at start and end.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { startPostgres } from 'pcluster/postgres';
import { CLI, REPO_ROOT, startCluster, fixture, killAllClusters, type ClusterProcess } from '../support/cluster-process.js';
import { sampleConnections } from '../support/connection-sampler.js';
import { startLoad } from '../support/load.js';
import { clusterStatus } from '../support/status.js';
import { waitFor } from '../support/wait-for.js';

const minutesArg = process.argv.indexOf('--minutes');
const MINUTES = minutesArg > 0 ? Number(process.argv[minutesArg + 1]) : 10;
const WORKERS = 3;
const BUDGET = 5;
const EVENT_EVERY_MS = 20_000;

const rss = async (cluster: ClusterProcess): Promise<{ primaryMb: number; workersMb: number[] }> => {
  const { readFile } = await import('node:fs/promises');
  const status = await clusterStatus(cluster);
  const primary = await readFile(`/proc/${cluster.child.pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(primary)?.[1] ?? 0);
  return { primaryMb: Math.round(kb / 1024), workersMb: status.workers.map((w) => Math.round(w.rssBytes / 1048576)) };
};

const server = await startPostgres({ maxConnections: 50 });
process.env['PCLUSTER_TEST_DATABASE_URL'] = server.connectionString;
const admin = new pg.Client({ connectionString: server.connectionString });
await admin.connect();
try {
  const cluster = await startCluster(fixture('routes.mjs'), { workers: WORKERS, args: ['--max-connections', String(BUDGET), '--timeout', '3s'] });
  const pcluster = (...args: string[]) => promisify(execFile)(process.execPath, [CLI, ...args, '--name', cluster.name], { cwd: REPO_ROOT });
  const settled = (workers: number) => waitFor(async () => {
    const status = await clusterStatus(cluster);
    return status.workers.length === workers && status.workers.every((w) => w.state === 'ready');
  }, 120_000, `${workers} ready workers`);
  const startRss = await rss(cluster);
  const sampler = sampleConnections(admin, cluster.name, 50);
  const load = startLoad(`${cluster.url}/page`, 12);
  const schedule: [string, () => Promise<unknown>][] = [
    ['SIGKILL a worker', async () => process.kill((await clusterStatus(cluster)).workers[0]!.pid!, 'SIGKILL')],
    ['pg_terminate_backend', async () => admin.query('SELECT pg_terminate_backend($1)', [(await clusterStatus(cluster)).workers[1]!.db.backendPid])],
    ['block an event loop past --timeout', async () => void fetch(`${cluster.url}/block?ms=6000`).then((r) => r.text(), () => undefined)],
    ['rolling reload', () => pcluster('reload')],
    ['scale to 4', () => pcluster('scale', '4')],
    ['scale to 3', () => pcluster('scale', '3')],
  ];
  const events = new Map<string, number>();
  const until = Date.now() + MINUTES * 60_000;
  for (let i = 0; Date.now() < until; i++) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(EVENT_EVERY_MS, Math.max(0, until - Date.now()))));
    if (Date.now() >= until) break;
    const [name, run] = schedule[i % schedule.length]!;
    await run();
    events.set(name, (events.get(name) ?? 0) + 1);
    await settled(name === 'scale to 4' ? 4 : WORKERS);
  }
  const outcome = await load.stop();
  const connections = await sampler.stop();
  const endRss = await rss(cluster);
  const code = (await cluster.stop()).code;
  const left = (await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE $1', [`pcluster:${cluster.name}:%`])).rows[0].n;
  const summary = {
    minutes: MINUTES,
    requests: outcome.requests,
    failures: outcome.failures,
    failuresByCause: outcome.causes,
    statusCodes: outcome.statusCodes,
    events: Object.fromEntries(events),
    maxConnections: `${connections.max}/${BUDGET} (${connections.samples} samples every 50 ms)`,
    rssStartMb: startRss,
    rssEndMb: endRss,
    exitCode: code,
    connectionsLeftAfterStop: left,
  };
  console.log(JSON.stringify(summary, null, 2));
  process.exitCode = connections.max <= BUDGET && left === 0 && code === 0 ? 0 : 1;
} finally {
  await killAllClusters();
  await admin.end();
  await server.destroy();
}
