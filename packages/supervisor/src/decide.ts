import type { WorkerState } from './worker-handle.js';

/** What the primary wants: how many workers, or none because it is stopping. */
export interface ClusterIntent {
  readonly workers: number;
  readonly isStopping: boolean;
  readonly gracefulTimeoutMs: number;
}

/** One slot as the decision needs to see it. */
export interface SlotView {
  readonly slot: number;
  readonly worker: { readonly state: WorkerState; readonly drainStartedAt: number | undefined } | undefined;
  /** Earliest time a replacement may be forked into this slot (crash backoff). */
  readonly respawnAt: number;
}

export type Action =
  | { readonly type: 'spawn'; readonly slot: number }
  | { readonly type: 'drain'; readonly slot: number }
  | { readonly type: 'kill'; readonly slot: number };

export interface Decision {
  readonly actions: readonly Action[];
  /** When to decide again even if nothing happens; undefined = only on the next event. */
  readonly wakeAt: number | undefined;
}

/** Extra time past --graceful-timeout before a draining worker is SIGKILLed (its own timer fires first). */
export const KILL_MARGIN_MS = 2_000;
/** A worker that dies sooner than this after its start counts as failing to run, and backs off. */
export const HEALTHY_UPTIME_MS = 10_000;
const RESPAWN_BASE_MS = 1_000;
const RESPAWN_CAP_MS = 30_000;

/** Delay before respawning a slot whose worker has failed `consecutiveFailures` times in a row (first: at once). */
export function respawnDelayMs(consecutiveFailures: number): number {
  if (consecutiveFailures <= 1) return 0;
  return Math.min(RESPAWN_CAP_MS, RESPAWN_BASE_MS * 2 ** (consecutiveFailures - 2));
}

/**
 * The primary's whole policy as a pure function: given what is wanted, the slots and the
 * time, which workers to fork, drain or kill, and when to look again.
 */
export function decide(intent: ClusterIntent, slots: readonly SlotView[], now: number): Decision {
  const actions: Action[] = [];
  let wakeAt: number | undefined;
  const wakeNoLaterThan = (at: number): void => {
    wakeAt = wakeAt === undefined ? at : Math.min(wakeAt, at);
  };

  for (const { slot, worker, respawnAt } of slots) {
    const isWanted = !intent.isStopping && slot <= intent.workers;
    if (worker === undefined || worker.state === 'exited') {
      if (!isWanted) continue;
      if (now >= respawnAt) actions.push({ type: 'spawn', slot });
      else wakeNoLaterThan(respawnAt);
      continue;
    }
    if (worker.state === 'draining') {
      const killAt = (worker.drainStartedAt ?? now) + intent.gracefulTimeoutMs + KILL_MARGIN_MS;
      if (now >= killAt) actions.push({ type: 'kill', slot });
      else wakeNoLaterThan(killAt);
      continue;
    }
    if (!isWanted) actions.push({ type: 'drain', slot });
  }
  if (!intent.isStopping) {
    const known = new Set(slots.map((s) => s.slot));
    for (let slot = 1; slot <= intent.workers; slot++) if (!known.has(slot)) actions.push({ type: 'spawn', slot });
  }
  return { actions, wakeAt };
}
