import { APP_CONNECTION_SUFFIX, type ServerBackend, type WorkerMessage } from '@pcluster/worker-runtime/protocol';
import type { Logger } from '@pcluster/worker-runtime/logger';
import type { WorkerHandle } from './worker-handle.js';

type Answer = Extract<WorkerMessage, { type: 'pcluster:server-connections' }>;

export interface MonitorEvents {
  counted(serverConnections: number): void;
  mismatched(): void;
  orphansTerminated(count: number): void;
}

/**
 * Compares what PostgreSQL shows for the cluster's application_name from this host (other hosts
 * run the same --name: their backends are theirs) with the backends the workers say they hold. The query runs on one ready worker's own connection (so the
 * cluster still holds exactly one connection per worker); a backend no live worker owns —
 * left by a worker that vanished without closing, say after a network partition — is
 * terminated once it has been an orphan for `orphanGraceMs`. A backend is only called an
 * orphan when no worker owns it in two rounds running: between a worker's connect and its
 * report of the backend pid reaching the primary, its own connection looks unowned.
 */
export class ServerConnectionMonitor {
  readonly #prefix: string;
  readonly #orphanGraceMs: number;
  readonly #log: Logger;
  readonly #events: MonitorEvents;
  readonly #orphanSince = new Map<number, number>();
  /** Backends no worker owned in the previous round: a worker that has just connected may not have told us its pid yet. */
  #unownedLastRound = new Set<number>();
  readonly #waiting = new Map<number, (answer: Answer) => void>();
  #nextRequestId = 1;
  #isBusy = false;

  constructor(options: { applicationNamePrefix: string; orphanGraceMs: number; log: Logger; events: MonitorEvents }) {
    this.#prefix = options.applicationNamePrefix;
    this.#orphanGraceMs = options.orphanGraceMs;
    this.#log = options.log;
    this.#events = options.events;
  }

  /** One round: ask a ready worker, compare, schedule orphans for termination. */
  async check(handles: readonly WorkerHandle[], now: number): Promise<void> {
    const asker = handles.find((h) => h.isReady && h.dbState === 'open');
    if (asker === undefined || this.#isBusy) return;
    this.#isBusy = true;
    try {
      const due = [...this.#orphanSince].filter(([, since]) => now - since >= this.#orphanGraceMs).map(([pid]) => pid);
      const answer = await this.#ask(asker, due);
      if (answer?.backends == null) return;
      if (answer.terminated.length > 0) {
        this.#log.warn({ backendPids: answer.terminated }, 'terminated orphaned backends no worker owns');
        this.#events.orphansTerminated(answer.terminated.length);
        for (const pid of answer.terminated) this.#orphanSince.delete(pid);
      }
      // pg_terminate_backend only signals: a backend terminated this round may still be listed while it exits.
      // It is not counted, and not seen as unowned, again.
      const terminated = new Set(answer.terminated);
      this.#compare(answer.backends.filter((b) => !terminated.has(b.pid)), handles, now);
    } finally {
      this.#isBusy = false;
    }
  }

  answered(answer: Answer): void {
    this.#waiting.get(answer.requestId)?.(answer);
  }

  #compare(backends: readonly ServerBackend[], handles: readonly WorkerHandle[], now: number): void {
    const owned = new Set(handles.map((h) => h.backendPid).filter((pid): pid is number => pid !== null));
    this.#events.counted(backends.length);
    // The app's own connections (SPEC §2.1) count for the cluster, but belong to its worker processes, not to pcluster.
    const unowned = backends.filter((b) => !owned.has(b.pid) && !b.applicationName.endsWith(APP_CONNECTION_SUFFIX));
    const orphans = unowned.filter((b) => this.#unownedLastRound.has(b.pid));
    this.#unownedLastRound = new Set(unowned.map((b) => b.pid));
    for (const pid of this.#orphanSince.keys()) if (!orphans.some((o) => o.pid === pid)) this.#orphanSince.delete(pid);
    for (const orphan of orphans) {
      if (this.#orphanSince.has(orphan.pid)) continue;
      this.#orphanSince.set(orphan.pid, now);
      this.#events.mismatched();
      this.#log.warn(
        { backendPid: orphan.pid, applicationName: orphan.applicationName, serverConnections: backends.length, workerConnections: owned.size },
        'PostgreSQL shows a connection of this cluster that no worker holds; terminating it if it stays orphaned',
      );
    }
  }

  #ask(handle: WorkerHandle, terminate: readonly number[]): Promise<Answer | undefined> {
    const requestId = this.#nextRequestId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(requestId);
        resolve(undefined);
      }, 5_000);
      this.#waiting.set(requestId, (answer) => {
        clearTimeout(timer);
        this.#waiting.delete(requestId);
        resolve(answer);
      });
      handle.send({ type: 'pcluster:inspect-server', requestId, applicationNamePrefix: this.#prefix, terminate });
    });
  }
}
