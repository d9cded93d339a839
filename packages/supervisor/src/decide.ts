import type { ConnectionState } from '@pcluster/worker-runtime/protocol';
import type { RestartReason } from './status-report.js';
import type { WorkerState } from './worker-handle.js';

/** What the primary wants, and the limits it enforces. */
export interface ClusterIntent {
  readonly workers: number;
  readonly isStopping: boolean;
  /** The current phase: a worker forked in an older phase is replaced (rolling reload). */
  readonly phase: number;
  readonly gracefulTimeoutMs: number;
  readonly timeoutMs: number;
  readonly maxMemoryBytes: number | undefined;
  readonly maxAgeMs: number | undefined;
  readonly maxConnections: number;
  /** --wait-for-db: how long a booting worker may keep retrying an unreachable database. */
  readonly waitForDbMs: number;
}

/** A worker as the decision sees it. */
export interface WorkerView {
  readonly id: number;
  readonly state: WorkerState;
  readonly phase: number;
  readonly startedAt: number;
  readonly drainStartedAt: number | undefined;
  readonly lastCheckInAt: number;
  /** When it said hello (its modules loaded), and when the budget granted its connection; undefined until then. */
  readonly helloAt: number | undefined;
  readonly grantedAt: number | undefined;
  /** `waiting`: refused for a server connection limit (SPEC §6), no boot failure; `slotWaitEndedAt`: when it last stopped waiting. */
  readonly dbState: ConnectionState;
  readonly slotWaitEndedAt: number | undefined;
  readonly requests: number;
  /** This worker's --max-requests, jitter included; 0 = off. */
  readonly maxRequests: number;
  readonly rssBytes: number;
}

/** One slot: the worker serving it, a successor booting to replace it, and its crash backoff. */
export interface SlotView {
  readonly slot: number;
  readonly current: WorkerView | undefined;
  readonly successor: WorkerView | undefined;
  readonly respawnAt: number;
}

export interface ClusterView {
  readonly slots: readonly SlotView[];
  readonly draining: readonly WorkerView[];
  /** Connections granted to live processes (the budget in use). */
  readonly connectionsGranted: number;
  /** Of those, the ones held by draining workers: back in the budget when they exit. */
  readonly connectionsDraining: number;
}

export type Action =
  | { readonly type: 'spawn'; readonly slot: number }
  /** Make-before-break: boot a successor; the current worker drains once it is ready. */
  | { readonly type: 'replace'; readonly slot: number; readonly reason: RestartReason }
  | { readonly type: 'drain'; readonly id: number; readonly reason: RestartReason | 'stop' }
  | { readonly type: 'kill'; readonly id: number; readonly reason: 'timeout' | 'boot_timeout' | 'graceful_timeout' };

export interface Decision {
  readonly actions: readonly Action[];
  /** When to decide again even if nothing happens; undefined = only on the next event. */
  readonly wakeAt: number | undefined;
}

/** Extra time past --graceful-timeout before a draining worker is SIGKILLed (its own timer fires first). */
export const KILL_MARGIN_MS = 2_000;
/** The worker's own connect timeout: a booting worker's deadline allows one attempt past --wait-for-db. */
const CONNECT_TIMEOUT_MS = 5_000;
/** Loading Node and pcluster's modules gets at least this long, whatever --timeout says (a loaded machine, a loader hook). */
const MIN_LOAD_MS = 30_000;

/**
 * How long a booting worker has for each stage (gunicorn kills a worker that does not boot within --timeout too):
 * to load its modules and say hello, --timeout but at least 30 s; once its connection is granted, to connect, load
 * the app, run setup() and listen, --wait-for-db + 5 s + --timeout. No deadline while it waits for the budget,
 * which may be a draining worker's whole --graceful-timeout, nor while it waits for a server slot (another host may
 * hold it for hours); the allowance starts again when it gets one.
 */
export function bootAllowanceMs(intent: Pick<ClusterIntent, 'timeoutMs' | 'waitForDbMs'>, stage: 'load' | 'boot'): number {
  return stage === 'load' ? Math.max(intent.timeoutMs, MIN_LOAD_MS) : intent.waitForDbMs + CONNECT_TIMEOUT_MS + intent.timeoutMs;
}

/** When a booting worker must be ready by (bootAllowanceMs), or undefined while it waits for the budget or a server slot. */
export function bootDeadline(intent: ClusterIntent, worker: WorkerView): number | undefined {
  if (worker.helloAt === undefined) return worker.startedAt + bootAllowanceMs(intent, 'load');
  if (worker.grantedAt === undefined || worker.dbState === 'waiting') return undefined;
  return Math.max(worker.grantedAt, worker.slotWaitEndedAt ?? 0) + bootAllowanceMs(intent, 'boot');
}

/**
 * A worker that served this long after it was ready and then died (killed, OOM, a crash) was running, not failing to
 * start, as supervisord's `startsecs`: its slot is respawned at once. gunicorn and Puma respawn every dead worker at
 * once; the backoff here is for workers that die before they are ready, or right after it, over and over.
 */
export const STABLE_AFTER_READY_MS = 1_000;
/**
 * Successors booting at once while workers are recycled (PM2 reloads two at a time too). Most of a
 * boot (~0.3 s of Node start and module loading) needs no connection, so the second one gets that
 * far while the first connects, and then waits at the budget for the connection its predecessor
 * gives back: with the default budget's one spare connection, an 8-worker reload took 3.2 s one at
 * a time (measured with the bench's supervisor timings).
 */
const MAX_SUCCESSORS = 2;
const RESPAWN_BASE_MS = 1_000;
const RESPAWN_CAP_MS = 30_000;

/**
 * Whether a worker that died before the cluster was first all ready ends the start (exit 3 or 4, SPEC §1). A reported
 * boot failure (the app, the database, a boot timeout) would recur in every worker: yes, at once. A silent death (an OOM
 * kill, a kill by hand) is replaced like any crash, until as many have died as there are workers and none serves.
 */
export function startupDeathHalts(death: { isReported: boolean; deaths: number; workers: number; isAnyReady: boolean }): boolean {
  return death.isReported || (death.deaths >= death.workers && !death.isAnyReady);
}

/**
 * The slot's failures in a row once a worker has died at `now`: a worker that served STABLE_AFTER_READY_MS starts the
 * count again (its death is the first), one that died before it was ready or right after (a crash loop) adds to it.
 */
export function failuresInARow(previous: number, death: { readyAt: number | undefined }, now: number): number {
  const wasRunning = death.readyAt !== undefined && now - death.readyAt >= STABLE_AFTER_READY_MS;
  return wasRunning ? 1 : previous + 1;
}

/** Delay before respawning a slot whose worker has failed `consecutiveFailures` times in a row (first: at once). */
export function respawnDelayMs(consecutiveFailures: number): number {
  if (consecutiveFailures <= 1) return 0;
  return Math.min(RESPAWN_CAP_MS, RESPAWN_BASE_MS * 2 ** (consecutiveFailures - 2));
}

/** Why `worker` should be recycled now, if it should; and when it will be due otherwise. */
export function recycleReason(intent: ClusterIntent, worker: WorkerView, now: number): { reason?: RestartReason; dueAt?: number } {
  if (worker.phase < intent.phase) return { reason: 'reload' };
  if (worker.maxRequests > 0 && worker.requests >= worker.maxRequests) return { reason: 'max_requests' };
  if (intent.maxMemoryBytes !== undefined && worker.rssBytes > intent.maxMemoryBytes) return { reason: 'max_memory' };
  if (intent.maxAgeMs !== undefined) {
    const dueAt = worker.startedAt + intent.maxAgeMs;
    return now >= dueAt ? { reason: 'max_age' } : { dueAt };
  }
  return {};
}

/**
 * The primary's whole policy as a pure function: given what is wanted, the workers and the
 * time, which workers to fork, replace, drain or kill, and when to look again.
 */
export function decide(intent: ClusterIntent, view: ClusterView, now: number): Decision {
  const actions: Action[] = [];
  let wakeAt: number | undefined;
  const wakeNoLaterThan = (at: number): void => {
    wakeAt = wakeAt === undefined ? at : Math.min(wakeAt, at);
  };

  for (const worker of view.draining) {
    const killAt = (worker.drainStartedAt ?? now) + intent.gracefulTimeoutMs + KILL_MARGIN_MS;
    if (now >= killAt) actions.push({ type: 'kill', id: worker.id, reason: 'graceful_timeout' });
    else wakeNoLaterThan(killAt);
  }

  const serving = view.slots.flatMap((s) => [s.current, s.successor]).filter((w): w is WorkerView => w !== undefined);
  if (intent.isStopping) {
    for (const worker of serving) actions.push({ type: 'drain', id: worker.id, reason: 'stop' });
    return { actions, wakeAt };
  }

  // Hung workers: a ready worker whose event loop has not answered a heartbeat within --timeout, or one stuck booting.
  const hung = new Set<number>();
  for (const worker of serving) {
    if (worker.state === 'starting') {
      const deadline = bootDeadline(intent, worker);
      if (deadline === undefined) continue;
      if (now >= deadline) actions.push({ type: 'kill', id: worker.id, reason: 'boot_timeout' });
      else wakeNoLaterThan(deadline);
      continue;
    }
    if (worker.state !== 'ready') continue;
    const deadline = worker.lastCheckInAt + intent.timeoutMs;
    if (now >= deadline) {
      actions.push({ type: 'kill', id: worker.id, reason: 'timeout' });
      hung.add(worker.id);
    } else wakeNoLaterThan(deadline);
  }

  const known = new Set(view.slots.map((s) => s.slot));
  for (const { slot, current, successor, respawnAt } of view.slots) {
    if (slot > intent.workers) {
      for (const worker of [current, successor]) if (worker !== undefined) actions.push({ type: 'drain', id: worker.id, reason: 'scale' });
      continue;
    }
    if (current === undefined && successor === undefined) {
      if (now >= respawnAt) actions.push({ type: 'spawn', slot });
      else wakeNoLaterThan(respawnAt);
    }
  }
  for (let slot = 1; slot <= intent.workers; slot++) if (!known.has(slot)) actions.push({ type: 'spawn', slot });

  // Recycling: only while every wanted slot is served by a ready worker, and at most MAX_SUCCESSORS booting at once.
  const wanted = view.slots.filter((s) => s.slot <= intent.workers);
  let successors = wanted.filter((s) => s.successor !== undefined).length;
  const isSettled = wanted.length === intent.workers && wanted.every((s) => s.current?.state === 'ready') && actions.length === 0;
  if (!isSettled || successors >= MAX_SUCCESSORS) return { actions, wakeAt };
  for (const { slot, current, successor, respawnAt } of wanted) {
    if (current === undefined || successor !== undefined || hung.has(current.id)) continue;
    // A successor that died before it was ready (a broken deploy) is tried again with the crash backoff.
    if (now < respawnAt) {
      wakeNoLaterThan(respawnAt);
      continue;
    }
    const { reason, dueAt } = recycleReason(intent, current, now);
    if (dueAt !== undefined) wakeNoLaterThan(dueAt);
    if (reason === undefined) continue;
    // Make-before-break needs one spare connection in the budget. One that a draining worker gives back when it
    // exits will do: the successor boots meanwhile and waits for it, while this worker keeps serving. Only a
    // budget with no spare at all (--max-connections = --workers) drains first.
    if (view.connectionsGranted - view.connectionsDraining + 1 <= intent.maxConnections) {
      actions.push({ type: 'replace', slot, reason });
      if (++successors >= MAX_SUCCESSORS) break;
    } else {
      // Break-before-make leaves this slot empty: nothing else is recycled until it is served again.
      if (successors === 0) actions.push({ type: 'drain', id: current.id, reason });
      break;
    }
  }
  return { actions, wakeAt };
}
