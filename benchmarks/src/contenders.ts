import { freePort } from 'pcluster/postgres';
import { track } from './cleanup.js';
import { appPath, startPcluster, withApplicationName, type RunningContender } from './contender.js';
import { startNodeClusterApp } from './node-cluster-app.js';
import { PrivatePm2 } from './private-pm2.js';

export const WORKLOADS = ['page', 'write', 'nodb'] as const;
export type Workload = (typeof WORKLOADS)[number];

export interface StartContext {
  readonly databaseUrl: string;
  readonly workers: number;
}

interface ContenderBase {
  readonly id: string;
  /** Short name for tables and the chart. */
  readonly label: string;
  readonly description: string;
  /** A bisecting aid rather than an alternative: runs only when named in `--contenders`. */
  readonly isDiagnostic?: true;
}

/** An HTTP server that serves the three routes; measured with wrk. */
export interface HttpContender extends ContenderBase {
  readonly kind: 'http';
  start(context: StartContext): Promise<RunningContender>;
}

/** pgbench running the /page script straight against PostgreSQL (no HTTP); measured in transactions = pages. */
export interface PgbenchContender extends ContenderBase {
  readonly kind: 'pgbench';
  readonly protocol: 'prepared' | 'extended';
}

export type Contender = HttpContender | PgbenchContender;

/** PM2 cluster mode: a private daemon running `apps/pool-worker.mjs` in `workers` instances; stop() is `pm2 kill`. */
async function startPm2Pool({ databaseUrl, workers }: StartContext): Promise<RunningContender> {
  const port = await freePort();
  const applicationName = `bench_pm2_${port}`;
  const pm2 = await PrivatePm2.launch();
  // Registered while its app starts: the daemon is no descendant of the bench, so if the bench exits now nothing else reaches it.
  const untrack = track({ stop: () => pm2.kill(), pids: () => pm2.pids() });
  try {
    await pm2.start({
      name: 'bench-pool', script: appPath('pool-worker.mjs'), exec_mode: 'cluster', instances: workers,
      wait_ready: true, autorestart: false, env: { PORT: String(port), DATABASE_URL: withApplicationName(databaseUrl, applicationName) },
    });
  } catch (error) {
    await pm2.kill();
    throw error;
  } finally {
    untrack();
  }
  return { port, rootPid: pm2.daemonPid, applicationName, pids: () => pm2.pids(), stop: () => pm2.kill() };
}

export const CONTENDERS: readonly Contender[] = [
  {
    id: 'pcluster', label: 'pcluster', kind: 'http',
    description: 'pcluster start, default flags (one connection per worker, statements of concurrent requests pipelined, --prepare auto; the app uses req.db)',
    start: ({ databaseUrl, workers }) => startPcluster(databaseUrl, workers),
  },
  {
    id: 'pcluster-import-db', label: 'pcluster, import { db }', kind: 'http',
    description: 'pcluster start, default flags, on the same app written with import { db } instead of req.db (AsyncLocalStorage per request)',
    start: ({ databaseUrl, workers }) => startPcluster(databaseUrl, workers, [], { app: appPath('pcluster-app-import-db.mjs') }),
  },
  {
    id: 'pcluster-depth-1', label: 'pcluster --pipeline-depth 1', kind: 'http',
    description: 'pcluster start --pipeline-depth 1: one statement at a time, as pcluster ran before pipelining',
    start: ({ databaseUrl, workers }) => startPcluster(databaseUrl, workers, ['--pipeline-depth', '1']),
  },
  {
    id: 'per-request-connection', label: 'new connection per request', kind: 'http',
    description: 'node:cluster; connect → queries → end on every request',
    start: ({ databaseUrl, workers }) => startNodeClusterApp('per-request-connection.mjs', databaseUrl, workers),
  },
  {
    id: 'original-recipe', label: 'original recipe', kind: 'http',
    description: 'node:cluster; one global pg.Client per worker, SELECT 1 before every request, requests take turns',
    start: ({ databaseUrl, workers }) => startNodeClusterApp('original-recipe.mjs', databaseUrl, workers),
  },
  {
    id: 'cluster-pool', label: 'node:cluster + Pool(10)', kind: 'http',
    description: 'node:cluster; pg.Pool({ max: 10, idleTimeoutMillis: 0 }) per worker',
    start: ({ databaseUrl, workers }) => startNodeClusterApp('cluster-pool.mjs', databaseUrl, workers),
  },
  {
    id: 'pm2-pool', label: 'PM2 + Pool(10)', kind: 'http',
    description: 'PM2 7 cluster mode (private daemon); pg.Pool({ max: 10, idleTimeoutMillis: 0 }) per instance',
    start: startPm2Pool,
  },
  {
    id: 'hand-rolled', label: 'hand-rolled, one at a time', kind: 'http',
    description: 'node:cluster; one persistent pg.Client per worker, statements take turns, named prepared statements, no supervisor',
    start: ({ databaseUrl, workers }) => startNodeClusterApp('hand-rolled.mjs', databaseUrl, workers),
  },
  {
    id: 'hand-rolled-pipeline', label: 'hand-rolled pipeline ceiling', kind: 'http',
    description: 'node:cluster; one pg.Client({ pipeline: true }) per worker shared by all its requests (a transaction waits for an empty pipeline and has it to itself), named prepared statements, no supervisor',
    start: ({ databaseUrl, workers }) => startNodeClusterApp('hand-rolled-pipeline.mjs', databaseUrl, workers),
  },
  {
    id: 'postgresjs-1', label: 'Postgres.js, max: 1', kind: 'http',
    description: 'node:cluster; Postgres.js postgres({ max: 1 }) per worker (prepares and pipelines by default; sql.begin for /write)',
    start: ({ databaseUrl, workers }) => startNodeClusterApp('postgresjs.mjs', databaseUrl, workers, { env: { POSTGRES_MAX: '1' } }),
  },
  {
    id: 'postgresjs-10', label: 'Postgres.js, max: 10', kind: 'http',
    description: 'node:cluster; Postgres.js postgres({ max: 10 }) per worker, its default pool size',
    start: ({ databaseUrl, workers }) => startNodeClusterApp('postgresjs.mjs', databaseUrl, workers, { env: { POSTGRES_MAX: '10' } }),
  },
  {
    id: 'hand-rolled-pcluster-path', label: 'hand-rolled + pcluster statement path', kind: 'http', isDiagnostic: true,
    description: "the hand-rolled worker running its statements through pcluster's keeper, statement queue and runner (pcluster's defaults) as req.db",
    start: ({ databaseUrl, workers }) => startNodeClusterApp('hand-rolled-pcluster-path.mjs', databaseUrl, workers),
  },
  {
    id: 'hand-rolled-pcluster-http', label: 'hand-rolled + pcluster statement path + HTTP side', kind: 'http', isDiagnostic: true,
    description: "the hand-rolled worker serving through pcluster's WorkerHttpServer (req.db sessions, in-flight tracking, response metrics)",
    start: ({ databaseUrl, workers }) => startNodeClusterApp('hand-rolled-pcluster-http.mjs', databaseUrl, workers),
  },
  {
    id: 'floor', label: 'floor: raw sockets, no driver, no HTTP parser', kind: 'http', isDiagnostic: true,
    description: 'node:cluster; one connection per worker that node-postgres only opens and prepares, then Bind/Execute/Sync by hand, and a raw TCP server for HTTP: the least a Node worker can do, one statement at a time',
    start: ({ databaseUrl, workers }) => startNodeClusterApp('floor.mjs', databaseUrl, workers),
  },
  {
    id: 'pgbench-prepared', label: 'pgbench -M prepared', kind: 'pgbench', protocol: 'prepared',
    description: 'pgbench, the /page script, -M prepared, one client per worker',
  },
  {
    id: 'pgbench-extended', label: 'pgbench -M extended', kind: 'pgbench', protocol: 'extended',
    description: 'pgbench, the /page script, -M extended, one client per worker',
  },
];
