import cluster, { type Worker } from 'node:cluster';
import { isWorkerMessage, SECRET_ENV_NAMES, type ConnectionState, type WorkerMessage, type WorkerStatus } from '@pcluster/worker-runtime/protocol';
import type { KeptTotals } from './cluster-metrics.js';
import type { WorkerView } from './decide.js';
import type { RestartReason } from './status-report.js';
import { watchUnacceptedConnections, type RawConnection } from './unaccepted-connections.js';

export const WORKER_STATES = ['starting', 'ready', 'draining', 'exited'] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

const TRANSITIONS: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  starting: ['ready', 'draining', 'exited'],
  ready: ['draining', 'exited'],
  draining: ['exited'],
  exited: [],
};

let nextId = 1;

/** What a forked worker's process reports to the primary. */
export interface WorkerEvents {
  message(handle: WorkerHandle, message: WorkerMessage): void;
  /** Its exit; or, with `forkError` and no pid, the operating system's refusal to start it. Once per handle. */
  exit(handle: WorkerHandle, code: number | null, signal: string | null, forkError?: NodeJS.ErrnoException): void;
  /** An IPC channel error on a live worker (EPIPE on a send to one that is exiting). */
  channelError(handle: WorkerHandle, error: Error): void;
  /** Connections node:cluster handed to it that it died without accepting (see unaccepted-connections). */
  stranded(handle: WorkerHandle, connections: RawConnection[]): void;
}

/** A worker as the primary sees it (Puma's WorkerHandle): slot, phase, state and its last check-in. */
export class WorkerHandle implements WorkerView {
  readonly id = nextId++;
  readonly slot: number;
  readonly phase: number;
  readonly process: Worker;
  readonly startedAt: number;
  readonly maxRequests: number;
  #state: WorkerState = 'starting';
  readyAt: number | undefined;
  drainStartedAt: number | undefined;
  lastCheckInAt: number;
  /** Whether it has answered a heartbeat since it became ready: only then does it count towards "all workers ready". */
  hasAnsweredHeartbeat = false;
  /** Why the primary is stopping this worker (a kill or a drain), so its exit is booked to the right reason. */
  stopReason: RestartReason | 'stop' | undefined;
  dbState: ConnectionState = 'connecting';
  /** When it last stopped waiting for a server slot (SPEC §6): its boot clock starts again then. */
  slotWaitEndedAt: number | undefined;
  backendPid: number | null = null;
  lastValidatedAt: string | null = null;
  /** When the worker said hello and was sent its configuration: from then on it answers questions over IPC. */
  helloAt: number | undefined;
  /** When the budget granted its connection. */
  grantedAt: number | undefined;
  requests = 0;
  rssBytes = 0;
  /** The counters and histograms of the worker's latest metrics snapshot; folded into the retired totals when it exits. */
  lastTotals: KeptTotals | undefined;

  /**
   * Forks the worker process for a slot. A fork the operating system refuses with EAGAIN, EMFILE, ENOENT … comes back
   * as `events.exit` with the error (libuv reports those as an 'error' and never an 'exit'); one it refuses outright
   * (ENOMEM) throws here.
   */
  static fork(fields: { slot: number; phase: number; now: number; maxRequests: number }, events: WorkerEvents): WorkerHandle {
    // undefined drops the variable from the child's environment: the secrets reach the worker over IPC only.
    const withoutSecrets = Object.fromEntries(SECRET_ENV_NAMES.map((key) => [key, undefined]));
    const worker = cluster.fork({ ...withoutSecrets, PCLUSTER_WORKER_SLOT: String(fields.slot) });
    const handle = new WorkerHandle({ ...fields, process: worker });
    watchUnacceptedConnections(worker.process, (connections) => events.stranded(handle, connections));
    worker.on('message', (message: unknown) => {
      if (isWorkerMessage(message)) events.message(handle, message);
    });
    worker.on('exit', (code: number | null, signal: string | null) => events.exit(handle, code, signal));
    worker.on('error', (error: NodeJS.ErrnoException) => {
      if (handle.pid !== undefined) return events.channelError(handle, error);
      delete cluster.workers?.[worker.id]; // node:cluster drops a worker on its exit, which a refused fork never has
      events.exit(handle, null, null, error);
    });
    return handle;
  }

  constructor(fields: { slot: number; phase: number; process: Worker; now: number; maxRequests: number }) {
    this.slot = fields.slot;
    this.phase = fields.phase;
    this.process = fields.process;
    this.startedAt = fields.now;
    this.lastCheckInAt = fields.now;
    this.maxRequests = fields.maxRequests;
  }

  get state(): WorkerState {
    return this.#state;
  }

  get pid(): number | undefined {
    return this.process.process.pid;
  }

  get isReady(): boolean {
    return this.#state === 'ready';
  }

  /** Moves to `to`; throws on a move the lifecycle does not allow. */
  transition(to: WorkerState): void {
    if (to === this.#state) return;
    if (!TRANSITIONS[this.#state].includes(to)) throw new Error(`worker ${this.slot}: illegal transition ${this.#state} -> ${to}`);
    this.#state = to;
  }

  /** Records what the worker last reported about itself. */
  update(status: WorkerStatus, now: number): void {
    this.lastCheckInAt = now;
    this.requests = status.requests;
    this.rssBytes = status.rssBytes;
    this.noteDbState(status.db.state, status.db.backendPid, now);
    this.lastValidatedAt = status.db.lastValidatedAt;
  }

  /** The worker's connection state as it reported it. */
  noteDbState(state: ConnectionState, backendPid: number | null, now: number): void {
    if (this.dbState === 'waiting' && state !== 'waiting') this.slotWaitEndedAt = now;
    this.dbState = state;
    this.backendPid = backendPid;
  }

  /** Sends a message; false when the channel is already closed (the worker is exiting). */
  send(message: object): boolean {
    try {
      return this.process.send(message);
    } catch {
      return false;
    }
  }

  kill(signal: NodeJS.Signals): void {
    try {
      this.process.process.kill(signal);
    } catch {
      // Already gone: its 'exit' event is on the way.
    }
  }
}
