import type pg from 'pg';
import type { PostgresServer } from 'pcluster/postgres';
import { track } from './cleanup.js';
import type { HttpContender, PgbenchContender, Workload } from './contenders.js';
import { runLoad } from './load.js';
import { startPgbench } from './pgbench.js';
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

/** Runs `measure` while sampling the database's connections and the process tree's RSS. */
async function sampled<T>(context: MeasureContext, rootPid: number, measure: () => Promise<T>): Promise<{ result: T; maxConnections: number; peakRssBytes: number }> {
  const connections = sampleConnections(context.admin, context.server.database);
  const rss = samplePeakRss(rootPid);
  try {
    const result = await measure();
    return { result, maxConnections: (await connections.stop()).max, peakRssBytes: (await rss.stop()).peakBytes };
  } finally {
    await Promise.allSettled([connections.stop(), rss.stop()]);
  }
}

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
      const { result, maxConnections, peakRssBytes } = await sampled(context, running.rootPid, () =>
        runLoad(url(workload), { connections: context.connections, durationSeconds: context.seconds }),
      );
      measurements.push({
        round: context.round, contender: contender.id, workload, rps: result.requestsPerSecond, p50Ms: result.p50Ms, p99Ms: result.p99Ms,
        requests: result.requests, failures: result.failures, maxConnections, peakRssBytes,
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
  const { result, maxConnections, peakRssBytes } = await sampled(context, pgbench.pid, () => pgbench.result);
  return {
    round: context.round, contender: contender.id, workload: 'page', rps: result.tps, p50Ms: result.p50Ms, p99Ms: result.p99Ms,
    requests: result.transactions, failures: result.failures, maxConnections, peakRssBytes,
  };
}
