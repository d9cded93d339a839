import type { Logger } from '@pcluster/worker-runtime/logger';
import type { ServerCapacity } from './check-server-capacity.js';
import type { ClusterMetrics } from './cluster-metrics.js';
import type { ConnectionBudget } from './connection-budget.js';
import type { ClusterIntent } from './decide.js';
import type { StartOptions } from './start-options.js';

/** What the operator has asked for — worker count, phase (reloads), stop — and the intent `decide()` reads. */
export class DesiredState {
  readonly #options: StartOptions;
  readonly #budget: ConnectionBudget;
  readonly #metrics: ClusterMetrics;
  readonly #log: Logger;
  workers: number;
  phase = 1;
  isStopping = false;

  readonly #serverCapacity: ServerCapacity | undefined;

  constructor(options: StartOptions, budget: ConnectionBudget, metrics: ClusterMetrics, log: Logger, serverCapacity?: ServerCapacity) {
    this.#serverCapacity = serverCapacity;
    this.#options = options;
    this.#budget = budget;
    this.#metrics = metrics;
    this.#log = log;
    this.workers = options.workers;
  }

  intent(): ClusterIntent {
    const o = this.#options;
    return {
      workers: this.workers,
      isStopping: this.isStopping,
      phase: this.phase,
      gracefulTimeoutMs: o.gracefulTimeoutMs,
      timeoutMs: o.timeoutMs,
      maxMemoryBytes: o.maxMemoryBytes,
      maxAgeMs: o.maxAgeMs,
      maxConnections: this.#budget.max,
      waitForDbMs: o.waitForDbMs,
    };
  }

  /** Starts a graceful stop; false when one was already under way. */
  stop(cause: string): boolean {
    if (this.isStopping) return false;
    this.#log.info({ cause }, 'stopping: draining workers');
    this.isStopping = true;
    return true;
  }

  /** A new phase: every worker of an older one is replaced, make-before-break, two at a time (not while stopping: the caller checks). */
  reload(): string {
    this.phase += 1;
    this.#log.info({ generation: this.phase }, 'rolling reload: replacing every worker, two at a time');
    return `rolling reload of ${this.workers} workers started (generation ${this.phase})`;
  }

  /** Changes the worker count; returns why it cannot, if it cannot. A default budget follows the count (workers + 1). */
  scale(workers: number): string | undefined {
    if (this.isStopping) return 'the cluster is stopping';
    if (!Number.isInteger(workers) || workers < 1) return `cannot scale to ${workers} workers: at least 1 is needed`;
    if (this.#options.isMaxConnectionsExplicit && workers > this.#budget.max) {
      return `cannot scale to ${workers} workers: --max-connections is ${this.#budget.max} and each worker holds one connection`;
    }
    const capacity = this.#serverCapacity;
    if (!this.#options.isMaxConnectionsExplicit && capacity !== undefined && workers + 1 > capacity.connections) {
      return `cannot scale to ${workers} workers: they need ${workers + 1} connections and ${capacity.description}; scale to at most ${capacity.connections - 1}, or raise max_connections`;
    }
    if (!this.#options.isMaxConnectionsExplicit) {
      this.#budget.resize(workers + 1);
      this.#metrics.setBudget(workers + 1);
    }
    this.#log.info({ from: this.workers, to: workers }, 'scaling');
    this.workers = workers;
    return undefined;
  }
}
