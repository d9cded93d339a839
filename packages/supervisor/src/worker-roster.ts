import type { Logger } from '@pcluster/worker-runtime/logger';
import { WORKER_EXIT, type SerializedError } from '@pcluster/worker-runtime/protocol';
import type { ClusterMetrics } from './cluster-metrics.js';
import type { ConnectionBudget } from './connection-budget.js';
import { startupDeathHalts, type Action, type ClusterView } from './decide.js';
import type { DesiredState } from './desired-state.js';
import type { ReloadProgress } from './reload-progress.js';
import type { StartOptions } from './start-options.js';
import type { RestartReason, SlotHistory } from './status-report.js';
import { bootFailureReason, bootTimeoutFailure, emptySlot, forkFailure, KILL_MESSAGES, scheduleRespawn, vacate, type Slot, type SlotFailure } from './slot.js';
import { handOverConnections, type RawConnection } from './unaccepted-connections.js';
import type { WorkerCollector } from './worker-collector.js';
import { WorkerHandle, type WorkerEvents } from './worker-handle.js';
import type { WorkerOutput } from './worker-output.js';

/** What the roster shares with the primary: the settings, the books a worker's life is kept in, and where its events go. */
export interface RosterContext {
  readonly options: StartOptions;
  readonly desired: DesiredState;
  readonly budget: ConnectionBudget;
  readonly collector: WorkerCollector;
  readonly metrics: ClusterMetrics;
  readonly reload: ReloadProgress;
  readonly log: Logger;
  /** Where what a worker prints goes: the primary's log stream. */
  readonly output: WorkerOutput;
  readonly events: WorkerEvents;
  /** No worker ever came up and this death says none will: the primary stops with the boot failure. */
  readonly haltOnBootFailure: (slot: number, code: number | null, signal: string | null, failure: SerializedError | undefined) => void;
}

/**
 * The workers as the primary keeps them (gunicorn's WORKERS, Puma's worker list): each slot's serving worker and
 * successor, the draining ones, and the verbs of their lives (spawn, replace, drain, kill, reap) with the books
 * kept on the way: restarts, crash backoff, boot failures.
 */
export class WorkerRoster {
  readonly #context: RosterContext;
  readonly #slots = new Map<number, Slot>();
  readonly #draining = new Set<WorkerHandle>();
  readonly #bootFailures = new Map<WorkerHandle, SerializedError>();
  #hasEverBeenReady = false;
  /** Workers that died before the cluster was first all ready, without reporting a boot failure. */
  #startupDeaths = 0;

  constructor(context: RosterContext) {
    this.#context = context;
  }

  /** Every worker process alive or booting: the slots' workers and successors, then the draining ones. */
  live(): WorkerHandle[] {
    const serving = [...this.#slots.values()].flatMap((s) => [s.current, s.successor]).filter((h): h is WorkerHandle => h !== undefined);
    return [...serving, ...this.#draining];
  }

  /** The live workers with their slot's restart history, as the status report reads them. */
  withHistory(): { handle: WorkerHandle; history: SlotHistory }[] {
    return this.live().map((handle) => ({ handle, history: this.#slots.get(handle.slot)! }));
  }

  /** The cluster as `decide()` sees it: a snapshot, so the decision cannot change the books it reads. */
  view(): ClusterView {
    const { budget } = this.#context;
    return {
      slots: [...this.#slots.values()].map(({ slot, current, successor, respawnAt }) => ({ slot, current, successor, respawnAt })),
      draining: [...this.#draining],
      connectionsGranted: budget.granted,
      connectionsDraining: [...this.#draining].filter((handle) => budget.holds(handle.id)).length,
    };
  }

  /** Does what `decide()` asked; a worker it names that has exited since is left alone. */
  apply(action: Action): void {
    switch (action.type) {
      case 'spawn':
        return void this.#spawnWorker(action.slot);
      case 'replace':
        return this.#replaceWorker(action.slot, action.reason);
      case 'drain': {
        const handle = this.live().find((h) => h.id === action.id);
        return handle === undefined ? undefined : this.#retireWorker(handle, action.reason);
      }
      case 'kill': {
        const handle = this.live().find((h) => h.id === action.id);
        return handle === undefined ? undefined : this.#killWorker(handle, action.reason);
      }
    }
  }

  /** SIGKILLs every live worker: a second stop request, or a start that cannot come up. */
  killWorkers(): void {
    for (const handle of this.live()) handle.kill('SIGKILL');
  }

  /** The worker is serving; a successor takes its slot over and the worker it replaces drains (make-before-break). */
  markReady(handle: WorkerHandle, now: number): void {
    if (handle.state !== 'starting') return;
    handle.transition('ready');
    handle.readyAt = now;
    const slot = this.#slots.get(handle.slot)!;
    this.#context.log.info({ worker: handle.slot, workerPid: handle.pid, backendPid: handle.backendPid, generation: handle.phase }, 'worker ready');
    this.#context.reload.noteBooted(handle.phase);
    if (slot.successor === handle) {
      // Make-before-break: the successor serves now, so the worker it replaces may drain.
      const old = slot.current;
      const reason = slot.successorReason ?? 'crash';
      slot.current = handle;
      slot.successor = undefined;
      slot.successorReason = undefined;
      if (old !== undefined) {
        this.#countRestart(slot, reason);
        this.#drain(old, reason);
      }
    }
    // Asked at once, not at the next heartbeat: "all workers ready" waits for every answer (see reachedAllReady).
    handle.send({ type: 'pcluster:ping' });
  }

  /**
   * True once: when every desired worker is ready and has answered a heartbeat since (one that cannot would be
   * killed for --timeout). From then on a death is a crash to back off from, never a start that cannot come up.
   */
  reachedAllReady(): boolean {
    const { desired } = this.#context;
    if (this.#hasEverBeenReady || this.live().filter((h) => h.isReady && h.hasAnsweredHeartbeat).length < desired.workers) return false;
    this.#hasEverBeenReady = true;
    return true;
  }

  /** Keeps the reason a worker gave for failing to boot until its exit, which books it. */
  noteBootFailure(handle: WorkerHandle, error: SerializedError): void {
    if (handle.state === 'exited') return; // read after its exit: the exit code already said it (see reapWorker)
    this.#bootFailures.set(handle, error);
  }

  /** A worker exited (or its fork was refused): its connection goes back to the budget and its slot is booked for a respawn. */
  reapWorker(handle: WorkerHandle, code: number | null, signal: string | null, forkError?: NodeJS.ErrnoException): void {
    if (handle.state === 'exited') return; // a refused fork reports an 'error'; an 'exit' may or may not follow it
    const { budget, collector, metrics, log } = this.#context;
    const slot = this.#slots.get(handle.slot)!;
    budget.release(handle.id);
    collector.forget(handle);
    metrics.retire(handle.lastTotals);
    handle.transition('exited');
    const bootFailure = this.#bootFailures.get(handle);
    this.#bootFailures.delete(handle);
    if (this.#draining.delete(handle)) {
      log.info({ worker: handle.slot, workerPid: handle.pid, code, signal, reason: handle.stopReason }, 'worker retired');
      return;
    }
    const wasCurrent = vacate(slot, handle);
    const isReported = bootFailure !== undefined || code === WORKER_EXIT.appBootFailed || code === WORKER_EXIT.databaseUnreachable;
    const failure = forkError === undefined ? bootFailure : forkFailure(slot.slot, forkError);
    this.#bookFailure(slot, { wasCurrent, phase: handle.phase, readyAt: handle.readyAt, isReported, failure, pid: handle.pid, code, signal, reason: handle.stopReason === 'timeout' ? 'timeout' : 'crash' });
  }

  /** Connections a dead worker was handed and never accepted go to a ready worker, or are closed when there is none. */
  handOverStranded(from: WorkerHandle, connections: RawConnection[]): void {
    const to = this.live().find((h) => h !== from && h.isReady && h.process.isConnected());
    this.#context.log.info({ worker: from.slot, workerPid: from.pid, connections: connections.length, to: to?.slot }, to === undefined ? 'closed connections a dead worker never accepted' : 'handed connections a dead worker never accepted to another worker');
    handOverConnections(connections, to?.process.process);
  }

  #spawnWorker(slotNumber: number): WorkerHandle | undefined {
    const { options, desired, log, output, events } = this.#context;
    let slot = this.#slots.get(slotNumber);
    if (slot === undefined) {
      slot = emptySlot(slotNumber);
      this.#slots.set(slotNumber, slot);
    }
    const { maxRequests, maxRequestsJitter } = options;
    const jitter = maxRequests > 0 && maxRequestsJitter > 0 ? Math.floor(Math.random() * (maxRequestsJitter + 1)) : 0;
    const wasEmpty = slot.current === undefined && slot.successor === undefined;
    let handle: WorkerHandle;
    try {
      handle = WorkerHandle.fork({ slot: slotNumber, phase: desired.phase, now: Date.now(), maxRequests: maxRequests > 0 ? maxRequests + jitter : 0 }, events);
    } catch (error) {
      // Refused outright: no process, no handle; the slot is retried like a crash.
      const failure = forkFailure(slotNumber, error as NodeJS.ErrnoException);
      this.#bookFailure(slot, { wasCurrent: wasEmpty, phase: desired.phase, readyAt: undefined, isReported: false, failure, pid: undefined, code: null, signal: null, reason: 'crash' });
      return undefined;
    }
    output.follow(handle.process.process, slotNumber);
    if (wasEmpty) slot.current = handle;
    log.debug({ worker: slotNumber, workerPid: handle.pid, generation: desired.phase }, 'worker forked');
    return handle;
  }

  #replaceWorker(slotNumber: number, reason: RestartReason): void {
    const slot = this.#slots.get(slotNumber)!;
    this.#context.log.info({ worker: slotNumber, workerPid: slot.current?.pid, reason }, 'recycling worker: booting its replacement');
    slot.successor = this.#spawnWorker(slotNumber);
    if (slot.successor !== undefined) slot.successorReason = reason;
  }

  #retireWorker(handle: WorkerHandle, reason: RestartReason | 'stop'): void {
    const slot = this.#slots.get(handle.slot)!;
    if (reason !== 'stop') this.#countRestart(slot, reason);
    vacate(slot, handle);
    this.#drain(handle, reason);
  }

  #killWorker(handle: WorkerHandle, reason: keyof typeof KILL_MESSAGES): void {
    // A boot timeout is reported as the worker's boot failure: logged on its exit, the start's error if no worker came up.
    if (reason === 'boot_timeout') this.#bootFailures.set(handle, bootTimeoutFailure(handle, this.#context.options));
    this.#context.log.warn({ worker: handle.slot, workerPid: handle.pid, reason }, KILL_MESSAGES[reason]);
    if (reason !== 'graceful_timeout') handle.stopReason = 'timeout';
    handle.kill('SIGKILL');
  }

  #drain(handle: WorkerHandle, reason: RestartReason | 'stop'): void {
    if (handle.state === 'draining' || handle.state === 'exited') return;
    handle.transition('draining');
    handle.stopReason = reason;
    handle.drainStartedAt = Date.now();
    this.#draining.add(handle);
    if (!handle.send({ type: 'pcluster:drain' })) handle.kill('SIGTERM');
  }

  /** A slot's worker died or could not be forked: halt a start that cannot come up, else respawn it after its backoff. */
  #bookFailure(slot: Slot, death: SlotFailure): void {
    const { desired, log, metrics, reload } = this.#context;
    if (desired.isStopping) return;
    const { code, signal, failure } = death;
    if (death.readyAt === undefined) {
      metrics.countBootFailure();
      reload.noteBootFailure(death.phase, bootFailureReason(slot.slot, code, signal, failure), death.isReported);
    }
    if (!this.#hasEverBeenReady && death.readyAt === undefined) {
      const isAnyReady = this.live().some((h) => h.isReady);
      if (startupDeathHalts({ isReported: death.isReported, deaths: ++this.#startupDeaths, workers: desired.workers, isAnyReady })) {
        return this.#context.haltOnBootFailure(slot.slot, code, signal, failure);
      }
    }
    const respawnInMs = scheduleRespawn(slot, death, Date.now());
    if (death.wasCurrent) this.#countRestart(slot, death.reason);
    log.error(
      { worker: slot.slot, workerPid: death.pid, code, signal, reason: death.reason, error: failure?.message, respawnInMs, consecutiveFailures: slot.consecutiveFailures },
      death.pid === undefined ? 'could not start a worker process; retrying' : death.wasCurrent ? 'worker died; replacing it' : 'replacement worker died before it was ready',
    );
  }

  #countRestart(slot: Slot, reason: RestartReason): void {
    slot.restarts += 1;
    slot.lastRestartReason = reason;
    this.#context.metrics.countRestart(reason);
  }
}
