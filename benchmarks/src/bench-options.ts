import path from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_ROOT } from './contender.js';
import { CONTENDERS, WORKLOADS, type Contender, type Workload } from './contenders.js';

export const USAGE = `usage: node benchmarks/dist/bench.js [--quick | --smoke] [--rounds N] [--seconds N] [--warmup N] [--rewarm N]
       [--contenders id,id] [--workloads page,write,nodb] [--no-supervisor] [--results-dir DIR] [--no-docs]
  (default)  3 alternating rounds of 8 s per route (4 windows of 2 s, the contenders taking turns window by window,
             each window after 1 s of unmeasured load), after 3 s of warm-up on each route (/nodb: by the others);
             updates RESULTS.md and chart.svg
  --quick    1 round of 2 s per route after 1 s of warm-up on each (about 2½ minutes; workers are not
             fully warm, so its ratios are indicative only); results JSON only
  --warmup N seconds of load on each route of a freshly started contender before any route is measured
             (/nodb, which runs a subset of what /page and /write run, only when it is measured first)
  --rewarm N seconds of unmeasured load on a route right before each of its windows (full run: 1; a contender
             idle during the others' turns serves its first second at ~60% of its steady rate)
  --smoke    1 round of 1 s, /page only, pcluster + node:cluster Pool + pgbench, no supervisor timings
contenders: ${CONTENDERS.filter((c) => c.isDiagnostic !== true).map((c) => c.id).join(', ')}
  diagnostic, only when named: ${CONTENDERS.filter((c) => c.isDiagnostic === true).map((c) => c.id).join(', ')}`;

/** What a full or quick run compares: every contender but the diagnostic ones. */
const STANDARD = CONTENDERS.filter((c) => c.isDiagnostic !== true).map((c) => c.id);

export interface BenchOptions {
  readonly mode: 'full' | 'quick' | 'smoke';
  readonly rounds: number;
  /** Seconds to measure per route, contender and round: `windows` windows of `windowSeconds` (up to 4 of at least 2 s). */
  readonly seconds: number;
  readonly windows: number;
  readonly windowSeconds: number;
  readonly warmupSeconds: number;
  /** Seconds of unmeasured load right before each window (a contender idle during the others' turns wakes slowly). */
  readonly rewarmSeconds: number;
  readonly workers: number;
  readonly connections: number;
  readonly contenders: readonly Contender[];
  readonly workloads: readonly Workload[];
  /** Time `pcluster start`/reload against PM2's with this many workers; 0 = skip. */
  readonly supervisorWorkers: number;
  readonly resultsDir: string;
  readonly resultsName: string;
  /** Rewrite RESULTS.md's generated section and chart.svg (full runs only, unless --no-docs). */
  readonly writesDocs: boolean;
}

class UsageError extends Error {}

function positiveInteger(name: string, value: string | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) throw new UsageError(`--${name} ${value}: give a whole number${allowZero ? ' ≥ 0' : ' ≥ 1'}`);
  return n;
}

function pick<T extends string>(name: string, value: string | undefined, known: readonly T[], fallback: readonly T[]): T[] {
  if (value === undefined) return [...fallback];
  const picked = value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  const unknown = picked.find((item) => !(known as readonly string[]).includes(item));
  if (unknown !== undefined) throw new UsageError(`--${name}: unknown "${unknown}"; choose from ${known.join(', ')}`);
  return picked as T[];
}

/** Parses the command line; prints the usage and exits 2 on a bad one. */
export function parseBenchOptions(argv: readonly string[], today = new Date()): BenchOptions {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean' }, smoke: { type: 'boolean' }, rounds: { type: 'string' }, seconds: { type: 'string' },
        warmup: { type: 'string' }, rewarm: { type: 'string' }, contenders: { type: 'string' }, workloads: { type: 'string' },
        'no-supervisor': { type: 'boolean' }, 'results-dir': { type: 'string' }, 'no-docs': { type: 'boolean' }, help: { type: 'boolean' },
      },
    });
    if (values.help === true) {
      console.log(USAGE);
      process.exit(0);
    }
    const mode = values.smoke === true ? 'smoke' : values.quick === true ? 'quick' : 'full';
    const defaults = {
      full: { rounds: 3, seconds: 8, warmup: 3, rewarm: 1, workloads: WORKLOADS, contenders: STANDARD, supervisorWorkers: 8 },
      quick: { rounds: 1, seconds: 2, warmup: 1, rewarm: 0, workloads: WORKLOADS, contenders: STANDARD, supervisorWorkers: 8 },
      smoke: { rounds: 1, seconds: 1, warmup: 0, rewarm: 0, workloads: ['page'] as const, contenders: ['pcluster', 'cluster-pool', 'pgbench-prepared'], supervisorWorkers: 0 },
    }[mode];
    const ids = pick('contenders', values.contenders, CONTENDERS.map((c) => c.id), defaults.contenders);
    const seconds = positiveInteger('seconds', values.seconds, defaults.seconds);
    const windows = Math.max(1, Math.min(4, Math.floor(seconds / 2)));
    return {
      mode,
      rounds: positiveInteger('rounds', values.rounds, defaults.rounds),
      seconds, windows, windowSeconds: Math.floor(seconds / windows),
      warmupSeconds: positiveInteger('warmup', values.warmup, defaults.warmup, true),
      rewarmSeconds: positiveInteger('rewarm', values.rewarm, defaults.rewarm, true),
      workers: 2,
      connections: 32,
      contenders: CONTENDERS.filter((c) => ids.includes(c.id)),
      workloads: pick('workloads', values.workloads, WORKLOADS, defaults.workloads),
      supervisorWorkers: values['no-supervisor'] === true ? 0 : defaults.supervisorWorkers,
      resultsDir: path.resolve(values['results-dir'] ?? path.join(BENCH_ROOT, 'results')),
      resultsName: `${today.toISOString().slice(0, 10)}${mode === 'full' ? '' : `-${mode}`}`,
      writesDocs: mode === 'full' && values['no-docs'] !== true,
    };
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}
