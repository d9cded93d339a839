import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { CONNECTION_STATES, type WorkerMetrics } from '@pcluster/worker-runtime/protocol';
import { RESTART_REASONS, type RestartReason } from './status-report.js';
import { WORKER_STATES, type WorkerHandle, type WorkerState } from './worker-handle.js';

type MetricJson = MetricObjectWithValues<MetricValue<string>>;

/**
 * What the primary keeps of a worker's latest snapshot, to fold into the retired totals when the worker exits:
 * its counters and histograms (a retired worker's gauges describe nothing that still exists), as one JSON string.
 * It is kept from one scrape to the next, long enough to be promoted to V8's old generation, where thousands of
 * small objects per worker and scrape piled up as garbage between the primary's rare full collections (its RSS grew
 * 13 MB/hour in a 60-minute soak, benchmarks/RELIABILITY.md); one flat string is a single small allocation.
 */
export type KeptTotals = string & { readonly __keptTotals: never };

export function keepTotals(metrics: WorkerMetrics): KeptTotals {
  return JSON.stringify(metrics.filter((metric) => ['counter', 'histogram'].includes(String(metric.type)))) as KeptTotals;
}

/**
 * prom-client's default nodejs_active_{handles,requests,resources}_total are gauges named like
 * counters, which promtool rejects (prometheus/client_js#283); the per-type series without
 * the suffix carry the same information, so these three are left out.
 */
function withoutMisnamedGauges(metrics: readonly MetricJson[]): MetricJson[] {
  return metrics.filter((metric) => !(String(metric.type) === 'gauge' && metric.name.endsWith('_total')));
}

/** Which of a slot's workers speaks for it: the one serving, else the one booting for it, else one draining from it. */
const SLOT_PRECEDENCE: readonly WorkerState[] = ['ready', 'starting', 'draining', 'exited'];

function slotWorkers(handles: Iterable<WorkerHandle>): WorkerHandle[] {
  const bySlot = new Map<number, WorkerHandle>();
  for (const handle of handles) {
    const held = bySlot.get(handle.slot);
    if (held === undefined || SLOT_PRECEDENCE.indexOf(handle.state) < SLOT_PRECEDENCE.indexOf(held.state)) bySlot.set(handle.slot, handle);
  }
  return [...bySlot.values()];
}

/**
 * The primary's view of metrics: its own gauges, plus the workers' registries aggregated
 * (prom-client's `aggregate`), plus the totals of workers that have exited, so cluster-wide
 * counters stay monotonic when a worker is replaced.
 */
export class ClusterMetrics {
  readonly registry = new Registry();
  #retired: WorkerMetrics = [];
  #retiring: Promise<void> = Promise.resolve();

  readonly #restarts = new Counter({
    name: 'pcluster_worker_restarts_total', help: 'Workers replaced or removed, by reason.', labelNames: ['reason'] as const, registers: [this.registry],
  });
  readonly #bootFailures = new Counter({
    name: 'pcluster_worker_boot_failures_total', help: 'Workers that died or timed out before they were ready (a broken deploy, when a reload\'s replacements do).', registers: [this.registry],
  });
  readonly #budget = new Gauge({ name: 'pcluster_db_connections_max', help: 'The connection budget (--max-connections).', registers: [this.registry] });

  readonly #serverConnections = new Gauge({
    name: 'pcluster_db_server_connections', help: 'Connections PostgreSQL itself reports for this cluster\'s application_name from this host\'s address.', registers: [this.registry],
  });
  readonly #mismatches = new Counter({
    name: 'pcluster_db_connection_mismatches_total', help: 'Backends PostgreSQL showed for the cluster that no worker held.', registers: [this.registry],
  });
  readonly #orphansTerminated = new Counter({
    name: 'pcluster_db_orphans_terminated_total', help: 'Orphaned backends terminated with pg_terminate_backend.', registers: [this.registry],
  });
  readonly #collectionMisses = new Counter({
    name: 'pcluster_metrics_collection_misses_total', help: 'Workers that did not answer a metrics or status collection in time (left out of it).', registers: [this.registry],
  });
  readonly countCollectionMiss = (): void => this.#collectionMisses.inc();
  /** What the server-connection monitor reports into. */
  /** What PostgreSQL last showed for the cluster, the app's own connections included (null before the first count). */
  serverConnections: number | null = null;
  readonly serverEvents = {
    counted: (count: number): void => {
      this.serverConnections = count;
      this.#serverConnections.set(count);
    },
    mismatched: (): void => this.#mismatches.inc(),
    orphansTerminated: (count: number): void => this.#orphansTerminated.inc(count),
  };

  constructor(handles: () => Iterable<WorkerHandle>, maxConnections: number) {
    collectDefaultMetrics({ register: this.registry, labels: { worker: 'primary' } });
    this.#mismatches.inc(0);
    this.#collectionMisses.inc(0);
    this.#orphansTerminated.inc(0);
    for (const reason of RESTART_REASONS) this.#restarts.inc({ reason }, 0);
    this.#budget.set(maxConnections);
    new Gauge({
      name: 'pcluster_workers', help: 'Worker processes by state.', labelNames: ['state'] as const, registers: [this.registry],
      collect() {
        const counts = new Map<string, number>(WORKER_STATES.filter((s) => s !== 'exited').map((s) => [s, 0]));
        for (const handle of handles()) if (counts.has(handle.state)) counts.set(handle.state, counts.get(handle.state)! + 1);
        for (const [state, count] of counts) this.set({ state }, count);
      },
    });
    new Gauge({
      name: 'pcluster_worker_db_state', help: 'Each worker\'s database connection: 1 for its current state, 0 for the others (worker = slot).',
      labelNames: ['worker', 'state'] as const, registers: [this.registry],
      collect() {
        this.reset(); // a worker gone takes its series with it
        for (const handle of slotWorkers(handles())) {
          for (const state of CONNECTION_STATES) this.set({ worker: String(handle.slot), state }, handle.dbState === state ? 1 : 0);
        }
      },
    });
  }

  /** Drops the series about the cluster's backends on the server (behind a pooler there are none of ours): absent, not 0. */
  omitServerSide(): void {
    for (const name of ['pcluster_db_server_connections', 'pcluster_db_connection_mismatches_total', 'pcluster_db_orphans_terminated_total']) {
      this.registry.removeSingleMetric(name);
    }
  }

  countRestart(reason: RestartReason): void {
    this.#restarts.inc({ reason });
  }

  countBootFailure(): void {
    this.#bootFailures.inc();
  }

  setBudget(maxConnections: number): void {
    this.#budget.set(maxConnections);
  }

  /** Folds an exited worker's last counters into the retired totals. */
  retire(totals: KeptTotals | undefined): void {
    if (totals === undefined) return;
    this.#retiring = this.#retiring.then(async () => {
      const merged = AggregatorRegistry.aggregate([this.#retired, JSON.parse(totals)] as MetricJson[][]);
      this.#retired = (await merged.getMetricsAsJSON()) as WorkerMetrics;
    });
  }

  /** Prometheus text for the whole cluster, from the snapshots the workers answered with. */
  async render(snapshots: readonly WorkerMetrics[]): Promise<string> {
    await this.#retiring;
    // One aggregation over the primary's own metrics too: the default process metrics share names across processes.
    const primary = (await this.registry.getMetricsAsJSON()) as MetricJson[];
    const sources = [primary, ...snapshots, this.#retired] as MetricJson[][];
    return AggregatorRegistry.aggregate(sources.map(withoutMisnamedGauges)).metrics();
  }
}
