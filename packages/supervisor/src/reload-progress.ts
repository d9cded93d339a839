import type { ControlResponse } from './control-protocol.js';

export const RELOAD_STATES = ['in_progress', 'done', 'failed'] as const;
export type ReloadState = (typeof RELOAD_STATES)[number];

/** The `reload` object of `pcluster status --json` and `GET /status`: the latest rolling reload and how far it got. */
export interface ReloadReport {
  /** The generation every worker is being moved to. */
  readonly generation: number;
  readonly state: ReloadState;
  readonly startedAt: string;
  /** Workers wanted, and how many of them serve (ready) at the target generation. */
  readonly workers: number;
  readonly booted: number;
  /** Workers of the target generation that died or timed out before they were ready. */
  readonly failed: number;
  /** The last of those failures, one line: the app's own error when it gave one (redacted by the worker). */
  readonly lastError: string | null;
}

/**
 * Where a reload stands. done: every wanted worker serves at the target generation and no worker of an older one is
 * left, draining ones included. failed: since the last replacement that booted, the new generation has failed with a
 * reported error (the app's, the database's, a boot timeout), which every retry would meet too, or has died silently
 * as many times in a row as there are workers: the rule that ends a start (startupDeathHalts). The old workers keep
 * serving meanwhile and the slots are retried with backoff, so a reload that failed may still finish.
 */
export function reloadState(facts: {
  readonly workers: number;
  readonly booted: number;
  readonly olderAlive: number;
  readonly failuresInARow: number;
  readonly hasReportedFailure: boolean;
}): ReloadState {
  if (facts.booted >= facts.workers && facts.olderAlive === 0) return 'done';
  if (facts.hasReportedFailure || (facts.failuresInARow > 0 && facts.failuresInARow >= facts.workers)) return 'failed';
  return 'in_progress';
}

/** A live worker as the reload counts it. */
export interface ReloadWorker {
  readonly phase: number;
  readonly isReady: boolean;
}

/** The books of the latest rolling reload: what it aims at, and the boots and boot failures of its generation. */
export class ReloadProgress {
  #generation: number | undefined;
  #startedAt = 0;
  #failed = 0;
  #failuresInARow = 0;
  #hasReportedFailure = false;
  #lastError: string | null = null;
  /** Once done, a reload stays done: a later crash of a new worker is a crash, not this reload failing. */
  #isDone = false;

  /** A reload to `generation` was asked for: it replaces any earlier one's books. */
  begin(generation: number, now: number): void {
    this.#generation = generation;
    this.#startedAt = now;
    this.#failed = 0;
    this.#failuresInARow = 0;
    this.#hasReportedFailure = false;
    this.#lastError = null;
    this.#isDone = false;
  }

  /** A worker of `phase` became ready: the new generation can boot, so earlier failures no longer say it cannot. */
  noteBooted(phase: number): void {
    if (phase !== this.#generation) return;
    this.#failuresInARow = 0;
    this.#hasReportedFailure = false;
  }

  /** A worker of `phase` died or was killed before it was ready; `error` is why, one line or more (the first is kept). */
  noteBootFailure(phase: number, error: string, isReported: boolean): void {
    if (phase !== this.#generation || this.#isDone) return;
    this.#failed += 1;
    this.#failuresInARow += 1;
    if (isReported) this.#hasReportedFailure = true;
    this.#lastError = error.split('\n', 1)[0]!;
  }

  /** The report for `workers` wanted and the live workers; null before the first reload. */
  report(workers: number, live: Iterable<ReloadWorker>): ReloadReport | null {
    const generation = this.#generation;
    if (generation === undefined) return null;
    let booted = 0;
    let olderAlive = 0;
    for (const worker of live) {
      if (worker.phase < generation) olderAlive += 1;
      else if (worker.phase === generation && worker.isReady) booted += 1;
    }
    const state = this.#isDone ? 'done' : reloadState({ workers, booted, olderAlive, failuresInARow: this.#failuresInARow, hasReportedFailure: this.#hasReportedFailure });
    if (state === 'done') this.#isDone = true;
    return {
      generation, state, startedAt: new Date(this.#startedAt).toISOString(), workers, booted: Math.min(booted, workers), failed: this.#failed, lastError: this.#lastError,
    };
  }
}

/** The answer to `pcluster reload --wait`, once there is one: done, failed (the app's error), or cut short by a stop. */
export function reloadAnswer(report: ReloadReport, isStopping: boolean): ControlResponse | undefined {
  const { generation, state, workers, lastError } = report;
  if (state === 'done') return { ok: true, message: `reload done: ${workers} workers at generation ${generation}` };
  if (isStopping) return { ok: false, error: `the cluster is stopping: the reload to generation ${generation} did not finish` };
  if (state === 'failed') {
    return { ok: false, error: `reload to generation ${generation} failed: ${lastError}; the older workers keep serving and the new ones are retried with a growing delay` };
  }
  return undefined;
}
