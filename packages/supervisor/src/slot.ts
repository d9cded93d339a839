import type { SerializedError } from '@pcluster/worker-runtime/protocol';
import { bootAllowanceMs } from './decide.js';
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

/** What the user reads when no worker could boot: one line, then the app's own stack (not for a bad module shape). */
export function describeBootFailure(slot: number, code: number | null, signal: string | null, failure: SerializedError | undefined): string {
  const line = `pcluster: ${failure?.message ?? `worker ${slot} exited (${signal ?? `code ${code}`}) before it became ready`}\n`;
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
