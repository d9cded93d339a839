import type { SerializedError } from '@pcluster/worker-runtime/protocol';
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
