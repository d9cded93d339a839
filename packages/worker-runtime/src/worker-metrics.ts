import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { BucketHistogram } from './bucket-histogram.js';
import type { ConnectionState, WorkerMetrics as WorkerMetricsSnapshot } from './protocol.js';

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const CONNECTION_GAUGE_STATES = { open: ['open'], connecting: ['connecting'], broken: ['broken'] } as const;

/**
 * The worker's own metrics, kept in a private registry (the app may use prom-client's
 * global one). The primary collects them over IPC and aggregates across workers.
 * What happens per statement or per response is counted in plain numbers and handed to
 * prom-client when the metrics are collected (see BucketHistogram for why).
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  requests = 0;
  connectionState: ConnectionState = 'connecting';

  readonly connects = new Counter({
    name: 'pcluster_db_connects_total', help: 'Connection attempts to PostgreSQL by result (limit: refused for a connection limit, SQLSTATE 53300).',
    labelNames: ['result'] as const, registers: [this.registry],
  });
  readonly #validationCounts = { ok: 0, failed: 0, skipped: 0 };
  readonly validations = new Counter({
    name: 'pcluster_db_validations_total', help: 'Connection validations before a lease, by result (skipped: used within --validate-after).',
    labelNames: ['result'] as const, registers: [this.registry],
    collect: () => this.#flush(this.#validationCounts, (result, n) => this.validations.inc({ result }, n)),
  });
  readonly leaseWait = new BucketHistogram('pcluster_db_lease_wait_seconds', 'Time a statement waited for its worker\'s connection.', [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]);
  readonly pipelineDepth = new BucketHistogram('pcluster_db_pipeline_depth', 'Statements in flight on the worker\'s connection when one is written, itself included.', [1, 2, 4, 8, 16, 32, 64, 128]);
  readonly rollbacks = new Counter({
    name: 'pcluster_db_rollbacks_total', help: 'Transactions left open by a finished request and rolled back by pcluster.',
    registers: [this.registry],
  });
  readonly foreignClients = new Gauge({
    name: 'pcluster_db_foreign_clients', help: 'Connections the app opened itself through its own pg, outside the one per worker (SPEC §2.1).',
    registers: [this.registry], aggregator: 'sum',
  });
  readonly #responseCounts = { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
  readonly httpRequests = new Counter({
    name: 'pcluster_http_requests_total', help: 'HTTP responses by status class.',
    labelNames: ['code'] as const, registers: [this.registry],
    collect: () => this.#flush(this.#responseCounts, (code, n) => this.httpRequests.inc({ code }, n)),
  });
  readonly httpDuration = new BucketHistogram('pcluster_http_request_duration_seconds', 'Time from request to the end of the response.', [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

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
    for (const result of ['success', 'failure', 'limit']) this.connects.inc({ result }, 0);
    for (const result of ['ok', 'failed', 'skipped']) this.validations.inc({ result }, 0);
    this.rollbacks.inc(0);
    this.foreignClients.set(0);
  }

  /** Counts one lease's validation outcome (skipped on almost every statement). */
  countValidation(result: 'ok' | 'failed' | 'skipped'): void {
    this.#validationCounts[result] += 1;
  }

  /** Counts one finished response. */
  observeResponse(statusCode: number, seconds: number): void {
    this.requests += 1;
    this.#responseCounts[STATUS_CLASSES[Math.min(Math.max(Math.floor(statusCode / 100), 1), 5) - 1]!] += 1;
    this.httpDuration.observe(seconds);
  }

  /** Hands what was counted since the last collection to prom-client. */
  #flush<K extends string>(counts: Record<K, number>, add: (label: K, n: number) => void): void {
    for (const label of Object.keys(counts) as K[]) {
      if (counts[label] === 0) continue;
      add(label, counts[label]);
      counts[label] = 0;
    }
  }

  async snapshot(): Promise<WorkerMetricsSnapshot> {
    const registered = (await this.registry.getMetricsAsJSON()) as WorkerMetricsSnapshot;
    return [...registered, this.leaseWait.toJSON(), this.pipelineDepth.toJSON(), this.httpDuration.toJSON()];
  }
}
