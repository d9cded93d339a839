import type { SerializedError } from '@pcluster/worker-runtime/protocol';
import { bootAllowanceMs, failuresInARow, respawnDelayMs } from './decide.js';
import type { RestartReason } from './status-report.js';
import type { WorkerHandle } from './worker-handle.js';

/** A worker slot (1..N): who serves it, who is booting to replace it, and its restart history. */
export interface Slot {
  readonly slot: number;
  current: WorkerHandle | undefined;
  successor: WorkerHandle | undefined;
  /** Why the successor is booting; booked when it takes over. */
  successorReason: RestartReason | undefined;
  respawnAt: number;
  consecutiveFailures: number;
  restarts: number;
  lastRestartReason: RestartReason | undefined;
}

export function emptySlot(slot: number): Slot {
  return { slot, current: undefined, successor: undefined, successorReason: undefined, respawnAt: 0, consecutiveFailures: 0, restarts: 0, lastRestartReason: undefined };
}

/** Takes `handle` out of the slot; true when it was the slot's serving worker. */
export function vacate(slot: Slot, handle: WorkerHandle): boolean {
  if (slot.successor === handle) {
    slot.successor = undefined;
    slot.successorReason = undefined;
  }
  if (slot.current !== handle) return false;
  slot.current = undefined;
  return true;
}

/** Books a death on the slot's backoff (failuresInARow); returns the delay before its respawn. */
export function scheduleRespawn(slot: Slot, death: { readyAt: number | undefined }, now: number): number {
  slot.consecutiveFailures = failuresInARow(slot.consecutiveFailures, death, now);
  slot.respawnAt = now + respawnDelayMs(slot.consecutiveFailures);
  return slot.respawnAt - now;
}

const exitedBeforeReady = (slot: number, code: number | null, signal: string | null): string => `worker ${slot} exited (${signal ?? `code ${code}`}) before it became ready`;

/** Why a worker did not boot: the app's own error when it gave one, else how its process ended. */
export function bootFailureReason(slot: number, code: number | null, signal: string | null, failure: SerializedError | undefined): string {
  return failure?.message ?? exitedBeforeReady(slot, code, signal);
}

/** What the user reads when no worker could boot: one line, then the app's own stack (not for a bad module shape). */
export function describeBootFailure(slot: number, code: number | null, signal: string | null, failure: SerializedError | undefined): string {
  const line = `pcluster: ${failure?.message ?? exitedBeforeReady(slot, code, signal)}\n`;
  return failure?.detail !== undefined && failure.code !== 'PCLUSTER_BAD_MODULE' ? `${line}${failure.detail}\n` : line;
}

/** What the primary logs when it SIGKILLs a worker, by the decision's reason. */
export const KILL_MESSAGES = {
  timeout: 'worker stopped answering heartbeats; SIGKILL',
  boot_timeout: 'worker did not finish booting in time; SIGKILL',
  graceful_timeout: 'worker did not drain in time; SIGKILL',
} as const;

/** A worker killed for not finishing its boot in time (decide's bootDeadline), as the boot failure the user reads. */
export function bootTimeoutFailure(worker: WorkerHandle, limits: { timeoutMs: number; waitForDbMs: number }): SerializedError {
  const isLoading = worker.helloAt === undefined;
  const stage = isLoading ? 'load its modules' : 'connect, load the app, run setup() and listen';
  const allowance = isLoading ? `${bootAllowanceMs(limits, 'load') / 1000}s` : `${bootAllowanceMs(limits, 'boot') / 1000}s (--wait-for-db + 5s + --timeout)`;
  return {
    code: 'PCLUSTER_BOOT_TIMEOUT',
    message: `worker ${worker.slot} did not ${stage} within ${allowance}; a setup() that never settles? raise --timeout if booting takes this long`,
  };
}

/** What to do about a fork the operating system refused, by its errno. */
const FORK_FIXES: Readonly<Record<string, string>> = {
  EMFILE: 'the primary is out of file descriptors: raise its open-file limit (ulimit -n, LimitNOFILE=)',
  ENFILE: 'the system is out of file descriptors: raise fs.file-max or close other programs\' files',
  EAGAIN: 'the process limit is reached: raise ulimit -u (LimitNPROC=, the container\'s pids limit) or lower --workers',
  ENOMEM: 'there is not enough memory to fork: lower --workers or free memory',
  ENOENT: 'the node binary or the working directory is gone: restart pcluster from an existing directory',
  EACCES: 'the node binary or the working directory is not accessible: check their permissions',
};

/** A worker process the operating system would not start, as the boot failure the user reads. */
export function forkFailure(slot: number, error: NodeJS.ErrnoException): SerializedError {
  const errno = error.code ?? 'unknown error';
  const fix = FORK_FIXES[errno] ?? 'see the error code; pcluster retries with a growing delay';
  return { code: 'PCLUSTER_FORK_FAILED', message: `could not start worker ${slot}'s process (${errno}): ${fix}` };
}

/** A slot's worker that died, or a fork for it that was refused (no pid), as the primary books it. */
export interface SlotFailure {
  readonly wasCurrent: boolean;
  /** The generation it was forked in (the phase a reload moves workers to). */
  readonly phase: number;
  /** When it became ready, if it ever did: how long it served decides its slot's backoff. */
  readonly readyAt: number | undefined;
  /** The worker said why it failed to boot (or its exit code did): at start, that ends the run at once. */
  readonly isReported: boolean;
  readonly failure: SerializedError | undefined;
  readonly pid: number | undefined;
  readonly code: number | null;
  readonly signal: string | null;
  readonly reason: RestartReason;
}
