import type { Contender, Workload } from './contenders.js';

/** One measured run of one contender on one workload in one round. */
export interface Measurement {
  readonly round: number;
  readonly contender: string;
  readonly workload: Workload;
  /** req/s for HTTP contenders, transactions (= pages) per second for pgbench. */
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly failures: number;
  /** Most client backends PostgreSQL showed for the database during the run (sampled every 100 ms). */
  readonly maxConnections: number;
  /** Peak of the summed VmRSS over the contender's process tree during the run (sampled every 200 ms). */
  readonly peakRssBytes: number;
  /** CPU µs per request used by the contender's process tree (primary or daemon + workers); NaN for pgbench, gone when it is read. */
  readonly appCpuUsPerRequest: number;
  /** CPU µs per request used by the whole PostgreSQL server. */
  readonly dbCpuUsPerRequest: number;
  /** Each window's own rate and latencies, in the order measured (p50/p99 above are their medians): a tail in some windows shows here. */
  readonly windows?: readonly WindowLatency[];
}

export interface WindowLatency {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Connections of the other contenders that closed during the window (absent in results written before it was kept). */
  readonly othersClosed?: number;
}

/** A contender's result on one workload across rounds: medians of rates and latencies, maxima of resources. */
export interface Summary {
  readonly contender: string;
  readonly label: string;
  readonly workload: Workload;
  readonly rounds: number;
  readonly rps: number;
  readonly rpsMin: number;
  readonly rpsMax: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxConnections: number;
  readonly peakRssBytes: number;
  /** Medians over rounds of the CPU µs per request of the contender and of PostgreSQL. */
  readonly appCpuUsPerRequest: number;
  readonly dbCpuUsPerRequest: number;
  readonly failures: number;
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** The smallest value with at least `share` of the values at or below it (nearest rank); NaN for no values. */
export const quantile = (values: readonly number[], share: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1))]!;
};

/**
 * `ours` ÷ `theirs` req/s on `workload` in each round that measured both, in round order.
 * The contenders of one round take turns in windows seconds apart, the rounds of a full run are minutes
 * apart; this shared machine drifts by ±20% between rounds, so only rates of the same round are compared.
 */
export function roundRatios(measurements: readonly Measurement[], ours: string, theirs: string, workload: Workload): number[] {
  const rate = (contender: string, round: number): number | undefined =>
    measurements.find((m) => m.contender === contender && m.workload === workload && m.round === round)?.rps;
  return measurements
    .filter((m) => m.contender === ours && m.workload === workload)
    .sort((a, b) => a.round - b.round)
    .flatMap((m) => {
      const other = rate(theirs, m.round);
      return other === undefined || other === 0 ? [] : [m.rps / other];
    });
}

/**
 * `ours` ÷ `theirs` req/s on `workload`: the median of the per-round ratios (roundRatios). The ratio of
 * each side's median can pair a fast round with a slow one (5 rounds of pcluster vs the hand-rolled
 * ceiling: per-round ratios 0.81–1.06, median 0.88; ratio of medians 1.03). NaN when no round measured both.
 */
export function pairedRatio(measurements: readonly Measurement[], ours: string, theirs: string, workload: Workload): number {
  const ratios = roundRatios(measurements, ours, theirs, workload);
  return ratios.length === 0 ? Number.NaN : median(ratios);
}

/** Summaries in contender order, then workload order; combinations without measurements are left out. */
export function summarise(contenders: readonly Contender[], workloads: readonly Workload[], measurements: readonly Measurement[]): Summary[] {
  return contenders.flatMap((contender) =>
    workloads.flatMap((workload) => {
      const runs = measurements.filter((m) => m.contender === contender.id && m.workload === workload);
      if (runs.length === 0) return [];
      const rates = runs.map((m) => m.rps);
      return [{
        contender: contender.id,
        label: contender.label,
        workload,
        rounds: runs.length,
        rps: median(rates),
        rpsMin: Math.min(...rates),
        rpsMax: Math.max(...rates),
        p50Ms: median(runs.map((m) => m.p50Ms)),
        p99Ms: median(runs.map((m) => m.p99Ms)),
        maxConnections: Math.max(...runs.map((m) => m.maxConnections)),
        peakRssBytes: Math.max(...runs.map((m) => m.peakRssBytes)),
        appCpuUsPerRequest: median(runs.map((m) => m.appCpuUsPerRequest)),
        dbCpuUsPerRequest: median(runs.map((m) => m.dbCpuUsPerRequest)),
        failures: runs.reduce((sum, m) => sum + m.failures, 0),
      }];
    }),
  );
}
