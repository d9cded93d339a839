import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConnectionState, WorkerMetrics as WorkerMetricsSnapshot } from './protocol.js';

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const CONNECTION_GAUGE_STATES = { open: ['ready', 'busy'], connecting: ['connecting'], broken: ['broken'] } as const;

/**
 * The worker's own metrics, kept in a private registry (the app may use prom-client's
 * global one). The primary collects them over IPC and aggregates across workers.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  requests = 0;
  connectionState: ConnectionState = 'connecting';

  readonly connects = new Counter({
    name: 'pcluster_db_connects_total', help: 'Connection attempts to PostgreSQL by result.',
    labelNames: ['result'] as const, registers: [this.registry],
  });
  readonly validations = new Counter({
    name: 'pcluster_db_validations_total', help: 'Connection validations before a lease, by result (skipped: used within --validate-after).',
    labelNames: ['result'] as const, registers: [this.registry],
  });
  readonly leaseWait = new Histogram({
    name: 'pcluster_db_lease_wait_seconds', help: 'Time a statement waited for its worker\'s connection.',
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [this.registry],
  });
  readonly rollbacks = new Counter({
    name: 'pcluster_db_rollbacks_total', help: 'Transactions left open by a finished request and rolled back by pcluster.',
    registers: [this.registry],
  });
  readonly httpRequests = new Counter({
    name: 'pcluster_http_requests_total', help: 'HTTP responses by status class.',
    labelNames: ['code'] as const, registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'pcluster_http_request_duration_seconds', help: 'Time from request to the end of the response.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry],
  });
  // Pre-bound children: the per-request and per-statement paths must not hash label sets.
  readonly #byClass = STATUS_CLASSES.map((code) => this.httpRequests.labels(code));
  readonly #validationsBy = { ok: this.validations.labels('ok'), failed: this.validations.labels('failed'), skipped: this.validations.labels('skipped') };

  constructor(slot: number) {
    // Process metrics (CPU, RSS, heap, event-loop lag) per worker, told apart by their stable slot.
    collectDefaultMetrics({ register: this.registry, labels: { worker: String(slot) } });
    const metrics = this;
    new Gauge({
      name: 'pcluster_db_connections', help: 'Database connections held by the workers, by state.',
      labelNames: ['state'] as const, registers: [this.registry], aggregator: 'sum',
      collect() {
        for (const [label, states] of Object.entries(CONNECTION_GAUGE_STATES)) {
          this.set({ state: label }, (states as readonly string[]).includes(metrics.connectionState) ? 1 : 0);
        }
      },
    });
    for (const result of ['success', 'failure']) this.connects.inc({ result }, 0);
    for (const result of ['ok', 'failed', 'skipped']) this.validations.inc({ result }, 0);
    this.rollbacks.inc(0);
  }

  /** Counts one lease's validation outcome (skipped on almost every statement). */
  countValidation(result: 'ok' | 'failed' | 'skipped'): void {
    this.#validationsBy[result].inc();
  }

  /** Counts one finished response. */
  observeResponse(statusCode: number, seconds: number): void {
    this.requests += 1;
    this.#byClass[Math.min(Math.max(Math.floor(statusCode / 100), 1), 5) - 1]!.inc();
    this.httpDuration.observe(seconds);
  }

  snapshot(): Promise<WorkerMetricsSnapshot> {
    return this.registry.getMetricsAsJSON() as Promise<WorkerMetricsSnapshot>;
  }
}
