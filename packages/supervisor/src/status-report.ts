import type { ConnectionState } from '@pcluster/worker-runtime/protocol';
import type { ReloadReport } from './reload-progress.js';
import type { WorkerHandle, WorkerState } from './worker-handle.js';

export const RESTART_REASONS = ['crash', 'max_requests', 'max_memory', 'max_age', 'timeout', 'reload', 'scale'] as const;
export type RestartReason = (typeof RESTART_REASONS)[number];

export interface WorkerStatusReport {
  readonly slot: number;
  readonly pid: number | undefined;
  readonly state: WorkerState;
  readonly generation: number;
  readonly uptimeSeconds: number;
  readonly requests: number;
  readonly rssBytes: number;
  readonly restarts: number;
  readonly lastRestartReason: RestartReason | null;
  /** `detail`: a human line beside the state, where the state alone does not say it (`waiting for a server slot`). */
  readonly db: { readonly state: ConnectionState; readonly backendPid: number | null; readonly lastValidatedAt: string | null; readonly detail?: string };
}

/** What `waiting` means (SPEC §6): PostgreSQL refused the login for a connection limit; the worker retries until a slot frees. */
export const WAITING_FOR_SLOT = 'waiting for a server slot';

/** The JSON of `GET /status` and `pcluster status --json`. */
export interface StatusReport {
  readonly name: string;
  readonly pid: number;
  /** `server`: what PostgreSQL shows for the cluster, the app's own connections included (SPEC §2.1); null before it is known, and behind a pooler (§6). */
  readonly budget: { readonly maxConnections: number; readonly held: number; readonly server: number | null };
  /** The latest rolling reload and how far it got; null before the first. */
  readonly reload: ReloadReport | null;
  readonly workers: readonly WorkerStatusReport[];
}

export interface SlotHistory {
  readonly restarts: number;
  readonly lastRestartReason: RestartReason | undefined;
}

/** Builds the status report from the live handles and each slot's restart history. */
export function buildStatusReport(
  cluster: {
    readonly name: string; readonly maxConnections: number; readonly connectionsGranted: number; readonly serverConnections: number | null; readonly reload: ReloadReport | null;
  },
  workers: readonly { readonly handle: WorkerHandle; readonly history: SlotHistory }[],
  now: number,
): StatusReport {
  const reports = workers
    .map(({ handle, history }): WorkerStatusReport => ({
      slot: handle.slot,
      pid: handle.pid,
      state: handle.state,
      generation: handle.phase,
      uptimeSeconds: Math.round((now - handle.startedAt) / 100) / 10,
      requests: handle.requests,
      rssBytes: handle.rssBytes,
      restarts: history.restarts,
      lastRestartReason: history.lastRestartReason ?? null,
      db: {
        state: handle.dbState, backendPid: handle.backendPid, lastValidatedAt: handle.lastValidatedAt,
        ...(handle.dbState === 'waiting' ? { detail: WAITING_FOR_SLOT } : {}),
      },
    }))
    .sort((a, b) => a.slot - b.slot || a.generation - b.generation);
  return {
    name: cluster.name,
    pid: process.pid,
    budget: { maxConnections: cluster.maxConnections, held: cluster.connectionsGranted, server: cluster.serverConnections },
    reload: cluster.reload,
    workers: reports,
  };
}
