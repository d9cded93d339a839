import type { Worker } from 'node:cluster';
import type { ConnectionState, WorkerMetrics, WorkerStatus } from '@pcluster/worker-runtime/protocol';

export const WORKER_STATES = ['starting', 'ready', 'draining', 'exited'] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

/** A worker as the primary sees it (Puma's WorkerHandle): slot, generation, phase and last report. */
export class WorkerHandle {
  readonly slot: number;
  readonly generation: number;
  readonly process: Worker;
  readonly startedAt: number;
  state: WorkerState = 'starting';
  readyAt: number | undefined;
  drainStartedAt: number | undefined;
  dbState: ConnectionState = 'connecting';
  backendPid: number | null = null;
  lastValidatedAt: string | null = null;
  requests = 0;
  rssBytes = 0;
  /** The worker's latest metrics snapshot; folded into the retired totals when it exits. */
  lastMetrics: WorkerMetrics | undefined;

  constructor(slot: number, generation: number, process: Worker, now: number) {
    this.slot = slot;
    this.generation = generation;
    this.process = process;
    this.startedAt = now;
  }

  get pid(): number | undefined {
    return this.process.process.pid;
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  /** Records what the worker last reported about itself. */
  update(status: WorkerStatus): void {
    this.requests = status.requests;
    this.rssBytes = status.rssBytes;
    this.dbState = status.db.state;
    this.backendPid = status.db.backendPid;
    this.lastValidatedAt = status.db.lastValidatedAt;
  }
}
