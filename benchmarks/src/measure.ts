import type pg from 'pg';
import type { PostgresServer } from 'pcluster/postgres';
import { postmasterPid, tracked } from './cleanup.js';
import type { Contender, HttpContender, PgbenchContender, Workload } from './contenders.js';
import { runLoad, type LoadResult } from './load.js';
import { startPgbench } from './pgbench.js';
import { isAlive, treeCpuMs } from './process-tree.js';
import { connectionCount, sampleConnections, samplePeakRss } from './samplers.js';
import { median, type Measurement } from './summary.js';

export interface MeasureContext {
  readonly server: PostgresServer;
  /** The sampler's own connection to the benchmark database. */
  readonly admin: pg.Client;
  readonly workers: number;
  readonly connections: number;
  readonly warmupSeconds: number;
  /**
   * Seconds of unmeasured load on a route right before each of its windows. A contender left idle while
   * the others take their turns (18 s in a full run) serves its first second at ~60% of its steady
   * rate (investigation log, item 17), so without this a window measures how fast it wakes, not how fast it serves.
   */
  readonly rewarmSeconds: number;
}

/** One load window of one contender on one route, with what it cost. */
export interface Window {
  readonly requests: number;
  /** Seconds the load ran (requests ÷ the rate the load tool reported). */
  readonly seconds: number;
  readonly failures: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Most backends PostgreSQL showed for this contender's application_name during the window. */
  readonly maxConnections: number;
  readonly peakRssBytes: number;
  /** CPU ms the contender's process tree used during the window; NaN when it is gone by the end (pgbench). */
  readonly appCpuMs: number;
  /** CPU ms the whole PostgreSQL server (postmaster, backends, background processes) used during the window. */
  readonly dbCpuMs: number;
  /**
   * Connections of the other contenders that closed during the window (their count before less after, or 0).
   * Idle contenders should hold theirs: 20 backends exiting at once stall this 2-core machine for ~250 ms,
   * in whichever window it falls (investigation log, item 20).
   */
  readonly othersClosed: number;
}

interface LoadOutcome {
  readonly requests: number;
  readonly rate: number;
  readonly failures: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Runs `load` while sampling the contender's connections and its process tree's RSS, and accounts the CPU both used. */
async function window(context: MeasureContext, rootPid: number, applicationName: string, seconds: number, load: () => Promise<LoadOutcome>): Promise<Window> {
  const postmaster = postmasterPid(context.server);
  const others = (): Promise<number> => connectionCount(context.admin, context.server.database, applicationName, { others: true });
  const othersBefore = await others();
  const [appCpuBefore, dbCpuBefore] = [await treeCpuMs(rootPid), await treeCpuMs(postmaster)];
  const connections = sampleConnections(context.admin, context.server.database, applicationName);
  const rss = samplePeakRss(rootPid);
  try {
    const result = await load();
    const [appCpuAfter, dbCpuAfter] = [isAlive(rootPid) ? await treeCpuMs(rootPid) : NaN, await treeCpuMs(postmaster)];
    return {
      requests: result.requests, seconds: result.rate > 0 ? result.requests / result.rate : seconds, failures: result.failures,
      p50Ms: result.p50Ms, p99Ms: result.p99Ms, maxConnections: (await connections.stop()).max, peakRssBytes: (await rss.stop()).peakBytes,
      appCpuMs: appCpuAfter - appCpuBefore, dbCpuMs: dbCpuAfter - dbCpuBefore, othersClosed: Math.max(0, othersBefore - (await others())),
    };
  } finally {
    await Promise.allSettled([connections.stop(), rss.stop()]);
  }
}

/** Closings of other contenders' connections in one window that are worth a warning: a pool's worth, not a straggler. */
export const OTHERS_CLOSED_WARNING = 5;

/** The warning for a window in which other contenders closed connections enough to weigh on it, if it was one. */
export function othersClosedWarning(label: string, workload: Workload, window: Pick<Window, 'othersClosed'>): string | undefined {
  if (window.othersClosed < OTHERS_CLOSED_WARNING) return undefined;
  return `warning: ${window.othersClosed} connections of other contenders closed during a /${workload} window of ${label}; ` +
    'backends exiting at once stall this machine, so that window is slow for a reason not its own (investigation log item 20, see benchmarks/README.md)';
}

/** A contender of one round, started (HTTP) or ready to run (pgbench): loads it for a window at a time. */
export interface Subject {
  readonly contender: Contender;
  /** Whether it serves `workload` (pgbench runs only the /page script). */
  serves(workload: Workload): boolean;
  warmUp(workloads: readonly Workload[]): Promise<void>;
  measure(workload: Workload, seconds: number): Promise<Window>;
  stop(): Promise<void>;
}

/**
 * The routes a fresh contender is warmed up on, `workloads` being measured in their order: all of them, but
 * `/nodb` only when it is measured first. It runs nothing that `/page` and `/write` do not (the same server
 * and listener, minus the database), and after them every contender has served those for seconds. That
 * warm-up (a second per contender) kept the quick run from staying under 2 minutes.
 */
export function warmUpRoutes(workloads: readonly Workload[]): readonly Workload[] {
  return workloads[0] === 'nodb' ? workloads : workloads.filter((workload) => workload !== 'nodb');
}

async function httpSubject(contender: HttpContender, context: MeasureContext): Promise<Subject> {
  const running = tracked(await contender.start({ databaseUrl: context.server.connectionString, workers: context.workers }));
  const load = (workload: Workload, seconds: number): Promise<LoadResult> =>
    runLoad(`http://127.0.0.1:${running.port}/${workload}`, { connections: context.connections, durationSeconds: seconds });
  return {
    contender,
    serves: () => true,
    async warmUp(workloads) {
      if (context.warmupSeconds > 0) for (const workload of warmUpRoutes(workloads)) await load(workload, context.warmupSeconds);
    },
    async measure(workload, seconds) {
      if (context.rewarmSeconds > 0) await load(workload, context.rewarmSeconds);
      return window(context, running.rootPid, running.applicationName, seconds, async () => {
        const result = await load(workload, seconds);
        return { ...result, rate: result.requestsPerSecond };
      });
    },
    stop: () => running.stop(),
  };
}

function pgbenchSubject(contender: PgbenchContender, context: MeasureContext): Subject {
  const options = { protocol: contender.protocol, clients: context.workers };
  return {
    contender,
    serves: (workload) => workload === 'page',
    async warmUp(workloads) {
      if (context.warmupSeconds > 0 && workloads.includes('page')) await startPgbench(context.server, { ...options, seconds: context.warmupSeconds }).result;
    },
    async measure(_workload, seconds) {
      if (context.rewarmSeconds > 0) await startPgbench(context.server, { ...options, seconds: context.rewarmSeconds }).result;
      const pgbench = startPgbench(context.server, { ...options, seconds });
      return window(context, pgbench.pid, 'pgbench', seconds, async () => {
        const result = await pgbench.result;
        return { ...result, requests: result.transactions, rate: result.tps };
      });
    },
    stop: async () => {},
  };
}

/**
 * Starts every HTTP contender of a round at once (nothing is measured yet, and one at a time took
 * ~14 s of the quick run's 2 minutes) and resolves once all serve, in `order`; if one fails to
 * start, stops the others. Fresh workers need ~5 s of load to reach their steady
 * rate (the first 2 s ran at ~30% of it here: JIT tiers, young-generation sizing, new
 * PostgreSQL backends), so every route of every subject is warmed up before any is measured.
 * Each one idles while the others take their turns and wakes slowly; `rewarmSeconds` covers that (investigation log, item 17).
 */
export async function startSubjects(order: readonly Contender[], context: MeasureContext): Promise<Subject[]> {
  const started = await Promise.allSettled(order.map(async (contender) => contender.kind === 'http' ? httpSubject(contender, context) : pgbenchSubject(contender, context)));
  const subjects = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const failure = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure !== undefined) {
    await stopSubjects(subjects);
    throw failure.reason;
  }
  return subjects;
}

export async function stopSubjects(subjects: readonly Subject[]): Promise<void> {
  for (const subject of [...subjects].reverse()) await subject.stop();
}

/** CPU µs per request (or pgbench transaction). */
const perRequest = (cpuMs: number, requests: number): number => (requests > 0 ? (cpuMs * 1000) / requests : NaN);

/**
 * One round's measurement of a contender on a route from its windows: the rate over all of
 * them, the median window's latencies, the most connections and RSS any window saw, and the CPU
 * per request over all of them.
 */
export function combineWindows(round: number, contender: string, workload: Workload, windows: readonly Window[]): Measurement {
  const sum = (pick: (w: Window) => number): number => windows.reduce((total, w) => total + pick(w), 0);
  const requests = sum((w) => w.requests);
  return {
    round, contender, workload, rps: requests / sum((w) => w.seconds),
    p50Ms: median(windows.map((w) => w.p50Ms)), p99Ms: median(windows.map((w) => w.p99Ms)),
    requests, failures: sum((w) => w.failures),
    maxConnections: Math.max(...windows.map((w) => w.maxConnections)), peakRssBytes: Math.max(...windows.map((w) => w.peakRssBytes)),
    appCpuUsPerRequest: perRequest(sum((w) => w.appCpuMs), requests), dbCpuUsPerRequest: perRequest(sum((w) => w.dbCpuMs), requests),
    windows: windows.map((w) => ({ rps: w.requests / w.seconds, p50Ms: w.p50Ms, p99Ms: w.p99Ms, othersClosed: w.othersClosed })),
  };
}
