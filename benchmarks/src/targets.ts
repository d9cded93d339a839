import type { Workload } from './contenders.js';
import { pairedRatio, roundRatios, type Measurement, type Summary } from './summary.js';

/** The contender the targets judge: `pcluster start` with default flags. */
export const PCLUSTER = 'pcluster';

/** One of issue 25's targets: pcluster ÷ an alternative on one route, or without `minRatio` a ratio that is only reported. */
interface Target {
  readonly workload: Workload;
  readonly against: string;
  readonly minRatio?: number;
  /** PM2's target also caps connections (pcluster ≤ 1/10 of its) and wants a better p99. */
  readonly checksConnectionsAndP99?: true;
  readonly text: string;
}

export const TARGETS: readonly Target[] = [
  { workload: 'page', against: 'pm2-pool', minRatio: 2.2, checksConnectionsAndP99: true, text: '≥ 2.2×, with ≤ 1/10 of its connections and a better p99' },
  { workload: 'page', against: 'hand-rolled-pipeline', minRatio: 0.9, text: '≥ 0.9× (supervisor overhead ≤ 10%)' },
  { workload: 'page', against: 'pgbench-prepared', minRatio: 0.8, text: '≥ 0.8×' },
  { workload: 'page', against: 'postgresjs-1', text: 'reported' },
  { workload: 'write', against: 'pcluster-depth-1', minRatio: 1, text: '≥ 1.0× (no slower than before pipelining)' },
  { workload: 'nodb', against: 'pcluster-depth-1', minRatio: 0.95, text: '≥ 0.95× (unchanged)' },
  { workload: 'page', against: 'per-request-connection', text: 'reported' },
  { workload: 'page', against: 'original-recipe', text: 'reported' },
];

export interface TargetCheck {
  readonly target: string;
  readonly workload: Workload;
  readonly against: string;
  /** pcluster req/s ÷ the alternative's req/s (or tps) on `workload`, paired round by round (see pairedRatio). */
  readonly ratio: number;
  /** The lowest and highest of the per-round ratios the median was taken over. */
  readonly roundRange: { readonly min: number; readonly max: number };
  readonly rounds: number;
  /** Absent for a reported ratio, as are roundsMet and isMet. */
  readonly minRatio?: number;
  /** Rounds whose own ratio would have met the target (the verdict is the median's). */
  readonly roundsMet?: number;
  readonly connections?: { readonly pcluster: number; readonly against: number };
  readonly p99Ms?: { readonly pcluster: number; readonly against: number };
  readonly isMet?: boolean;
}

/** Every target whose alternative was measured beside pcluster on its route. */
export function checkTargets(summaries: readonly Summary[], measurements: readonly Measurement[]): TargetCheck[] {
  const find = (id: string, workload: Workload): Summary | undefined => summaries.find((s) => s.contender === id && s.workload === workload);
  return TARGETS.flatMap((target) => {
    const ours = find(PCLUSTER, target.workload);
    const theirs = find(target.against, target.workload);
    if (ours === undefined || theirs === undefined) return [];
    const ratios = roundRatios(measurements, PCLUSTER, target.against, target.workload);
    const check = {
      target: target.text, workload: target.workload, against: target.against,
      ratio: pairedRatio(measurements, PCLUSTER, target.against, target.workload),
      roundRange: { min: Math.min(...ratios), max: Math.max(...ratios) }, rounds: ratios.length,
    };
    const { minRatio } = target;
    if (minRatio === undefined) return [check];
    const judged = { ...check, minRatio, roundsMet: ratios.filter((r) => r >= minRatio).length, isMet: check.ratio >= minRatio };
    if (target.checksConnectionsAndP99 !== true) return [judged];
    const connections = { pcluster: ours.maxConnections, against: theirs.maxConnections };
    const p99Ms = { pcluster: ours.p99Ms, against: theirs.p99Ms };
    return [{ ...judged, connections, p99Ms, isMet: judged.isMet && connections.pcluster * 10 <= connections.against && p99Ms.pcluster < p99Ms.against }];
  });
}
