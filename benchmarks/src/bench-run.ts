import type { BenchOptions } from './bench-options.js';
import type { Contender } from './contenders.js';
import type { Measurement, Summary } from './summary.js';
import type { SupervisorTimings } from './supervisor-timings.js';
import type { TargetCheck } from './targets.js';

/** Everything one `npm run bench` produced: what benchmarks/results/<date>.json holds. */
export interface BenchRun {
  readonly date: string;
  readonly command: string;
  readonly resultsName: string;
  readonly machine: {
    readonly cores: number;
    readonly cpuModel: string;
    readonly memoryGb: number;
    /** `os.type() os.release()`; absent in results written before it was kept. */
    readonly kernel?: string;
    readonly node: string;
    readonly postgres: string;
    readonly loadTool: string;
  };
  readonly settings: Pick<BenchOptions, 'mode' | 'rounds' | 'seconds' | 'windows' | 'windowSeconds' | 'warmupSeconds' | 'rewarmSeconds' | 'workers' | 'connections' | 'workloads'>;
  readonly contenders: readonly (Pick<Contender, 'id' | 'label' | 'description' | 'kind'>)[];
  readonly measurements: readonly Measurement[];
  readonly summaries: readonly Summary[];
  readonly targets: readonly TargetCheck[];
  readonly supervisor: { readonly pcluster?: SupervisorTimings; readonly pm2?: SupervisorTimings };
}
