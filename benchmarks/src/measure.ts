import { readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import type { PostgresServer } from 'pcluster/postgres';
import { track } from './cleanup.js';
import type { HttpContender, PgbenchContender, Workload } from './contenders.js';
import { runLoad } from './load.js';
import { startPgbench } from './pgbench.js';
import { isAlive, treeCpuMs } from './process-tree.js';
import { sampleConnections, samplePeakRss } from './samplers.js';
import type { Measurement } from './summary.js';

export interface MeasureContext {
  readonly server: PostgresServer;
  /** The sampler's own connection to the benchmark database. */
  readonly admin: pg.Client;
  readonly round: number;
  readonly workers: number;
  readonly connections: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
}

/** The postmaster's pid, from the first line of `postmaster.pid` in its data directory. */
export function postmasterPid(server: PostgresServer): number {
  return Number(readFileSync(path.join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

interface Sampled<T> {
  readonly result: T;
  readonly maxConnections: number;
  readonly peakRssBytes: number;
  /** CPU ms the contender's process tree used during the run; NaN when it is gone by the end (pgbench). */
  readonly appCpuMs: number;
  /** CPU ms the whole PostgreSQL server (postmaster, backends, background processes) used during the run. */
  readonly dbCpuMs: number;
}

/** Runs `measure` while sampling the database's connections and the process tree's RSS, and accounts the CPU both used. */
async function sampled<T>(context: MeasureContext, rootPid: number, measure: () => Promise<T>): Promise<Sampled<T>> {
  const postmaster = postmasterPid(context.server);
  const [appCpuBefore, dbCpuBefore] = [await treeCpuMs(rootPid), await treeCpuMs(postmaster)];
  const connections = sampleConnections(context.admin, context.server.database);
  const rss = samplePeakRss(rootPid);
  try {
    const result = await measure();
    const [appCpuAfter, dbCpuAfter] = [isAlive(rootPid) ? await treeCpuMs(rootPid) : NaN, await treeCpuMs(postmaster)];
    return {
      result, maxConnections: (await connections.stop()).max, peakRssBytes: (await rss.stop()).peakBytes,
      appCpuMs: appCpuAfter - appCpuBefore, dbCpuMs: dbCpuAfter - dbCpuBefore,
    };
  } finally {
    await Promise.allSettled([connections.stop(), rss.stop()]);
  }
}

/** CPU µs per request (or pgbench transaction). */
const perRequest = (cpuMs: number, requests: number): number => (requests > 0 ? (cpuMs * 1000) / requests : NaN);

/**
 * Starts the contender, warms up every workload in turn, then measures each with one wrk run;
 * always stops it. Fresh workers need ~5 s of load to reach their steady rate (the first 2 s
 * ran at ~30% of it here: JIT tiers, young-generation sizing, new PostgreSQL backends), and
 * most of that carries over between routes, so all routes are warmed before any is measured.
 */
export async function measureHttp(contender: HttpContender, workloads: readonly Workload[], context: MeasureContext): Promise<Measurement[]> {
  const running = await contender.start({ databaseUrl: context.server.connectionString, workers: context.workers });
  const untrack = track(running);
  const url = (workload: Workload): string => `http://127.0.0.1:${running.port}/${workload}`;
  try {
    if (context.warmupSeconds > 0) {
      for (const workload of workloads) await runLoad(url(workload), { connections: context.connections, durationSeconds: context.warmupSeconds });
    }
    const measurements: Measurement[] = [];
    for (const workload of workloads) {
      const { result, maxConnections, peakRssBytes, appCpuMs, dbCpuMs } = await sampled(context, running.rootPid, () =>
        runLoad(url(workload), { connections: context.connections, durationSeconds: context.seconds }),
      );
      measurements.push({
        round: context.round, contender: contender.id, workload, rps: result.requestsPerSecond, p50Ms: result.p50Ms, p99Ms: result.p99Ms,
        requests: result.requests, failures: result.failures, maxConnections, peakRssBytes,
        appCpuUsPerRequest: perRequest(appCpuMs, result.requests), dbCpuUsPerRequest: perRequest(dbCpuMs, result.requests),
      });
    }
    return measurements;
  } finally {
    await running.stop();
    untrack();
  }
}

/** pgbench on the /page script: a warm-up, then one measured run with one client per worker. */
export async function measurePgbench(contender: PgbenchContender, context: MeasureContext): Promise<Measurement> {
  const options = { protocol: contender.protocol, clients: context.workers };
  if (context.warmupSeconds > 0) await startPgbench(context.server, { ...options, seconds: context.warmupSeconds }).result;
  const pgbench = startPgbench(context.server, { ...options, seconds: context.seconds });
  const { result, maxConnections, peakRssBytes, appCpuMs, dbCpuMs } = await sampled(context, pgbench.pid, () => pgbench.result);
  return {
    round: context.round, contender: contender.id, workload: 'page', rps: result.tps, p50Ms: result.p50Ms, p99Ms: result.p99Ms,
    requests: result.transactions, failures: result.failures, maxConnections, peakRssBytes,
    appCpuUsPerRequest: perRequest(appCpuMs, result.transactions), dbCpuUsPerRequest: perRequest(dbCpuMs, result.transactions),
  };
}
