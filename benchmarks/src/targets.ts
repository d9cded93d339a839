import { pairedRatio, roundRatios, type Measurement, type Summary } from './summary.js';

/** One of issue 6's targets for pcluster against an alternative, judged on the /page workload. */
interface Target {
  readonly against: string;
  readonly minRatio: number;
  /** PM2's target also caps connections (pcluster ≤ 1/10 of its) and p99 (no worse). */
  readonly checksConnectionsAndP99?: boolean;
  readonly text: string;
}

export const TARGETS: readonly Target[] = [
  { against: 'pm2-pool', minRatio: 1.8, checksConnectionsAndP99: true, text: '≥ 1.8× PM2 + Pool(10) req/s, ≤ 1/10 of its connections, p99 no worse' },
  { against: 'per-request-connection', minRatio: 25, text: '≥ 25× new connection per request' },
  { against: 'original-recipe', minRatio: 1.8, text: '≥ 1.8× the original recipe' },
  { against: 'hand-rolled', minRatio: 0.95, text: '≥ 0.95× the hand-rolled ceiling' },
  { against: 'pgbench-prepared', minRatio: 0.5, text: '≥ 0.5× pgbench -M prepared tps' },
];

export const PCLUSTER_VARIANTS = ['pcluster', 'pcluster-prepare-auto'] as const;

export interface TargetCheck {
  readonly target: string;
  readonly against: string;
  readonly variant: string;
  /** pcluster req/s ÷ the alternative's req/s (or tps) on /page, paired round by round (see pairedRatio). */
  readonly ratio: number;
  /** The lowest and highest of the per-round ratios the median was taken over. */
  readonly roundRange: { readonly min: number; readonly max: number };
  /** Rounds whose own ratio would have met the target (the verdict is the median's). */
  readonly roundsMet: number;
  readonly rounds: number;
  readonly minRatio: number;
  readonly connections?: { readonly pcluster: number; readonly against: number };
  readonly p99Ms?: { readonly pcluster: number; readonly against: number };
  readonly isMet: boolean;
}

/** Every target for each pcluster variant that was measured, against each alternative that was. */
export function checkTargets(summaries: readonly Summary[], measurements: readonly Measurement[]): TargetCheck[] {
  const page = (id: string): Summary | undefined => summaries.find((s) => s.contender === id && s.workload === 'page');
  return TARGETS.flatMap((target) =>
    PCLUSTER_VARIANTS.flatMap((variant) => {
      const ours = page(variant);
      const theirs = page(target.against);
      if (ours === undefined || theirs === undefined) return [];
      const ratio = pairedRatio(measurements, variant, target.against, 'page');
      const ratios = roundRatios(measurements, variant, target.against, 'page');
      const spread = {
        roundRange: { min: Math.min(...ratios), max: Math.max(...ratios) },
        roundsMet: ratios.filter((r) => r >= target.minRatio).length,
        rounds: ratios.length,
      };
      let isMet = ratio >= target.minRatio;
      const common = { target: target.text, against: target.against, variant, ratio, ...spread, minRatio: target.minRatio };
      if (target.checksConnectionsAndP99 !== true) return [{ ...common, isMet }];
      const connections = { pcluster: ours.maxConnections, against: theirs.maxConnections };
      const p99Ms = { pcluster: ours.p99Ms, against: theirs.p99Ms };
      isMet &&= connections.pcluster * 10 <= connections.against && p99Ms.pcluster <= p99Ms.against;
      return [{ ...common, connections, p99Ms, isMet }];
    }),
  );
}
