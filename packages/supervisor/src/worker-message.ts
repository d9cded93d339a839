import type { Logger } from '@pcluster/worker-runtime/logger';
import type { DatabaseSettings, WorkerMessage } from '@pcluster/worker-runtime/protocol';
import type { BootLock } from './boot-lock.js';
import { keepTotals } from './cluster-metrics.js';
import type { ConnectionBudget } from './connection-budget.js';
import type { ServerConnectionMonitor } from './server-connection-monitor.js';
import type { StartOptions } from './start-options.js';
import type { WorkerCollector } from './worker-collector.js';
import { buildWorkerConfig } from './worker-config.js';
import type { WorkerHandle } from './worker-handle.js';
import type { WorkerRoster } from './worker-roster.js';

/** What the primary's loop lends the handling of a worker's message. */
export interface MessageContext {
  readonly options: StartOptions;
  readonly database: DatabaseSettings;
  readonly budget: ConnectionBudget;
  readonly log: Logger;
  readonly workers: WorkerRoster;
  readonly collector: WorkerCollector;
  readonly monitor: ServerConnectionMonitor;
  readonly bootLock: BootLock;
  /** The app's own server listens elsewhere than --port (SPEC §2). */
  setAddress(address: { readonly host: string; readonly port: number }): void;
  announceIfAllReady(): void;
}

/** One message from a worker, in the primary's loop (its hello, grant requests, readiness, reports). */
export function handleWorkerMessage(c: MessageContext, handle: WorkerHandle, message: WorkerMessage): void {
  const now = Date.now();
  switch (message.type) {
    case 'pcluster:hello':
      // A drain sent while the worker was still loading reached no listener: it is told again instead of booting.
      if (handle.state === 'draining') return void handle.send({ type: 'pcluster:drain' });
      handle.helloAt = now;
      handle.send({ type: 'pcluster:configure', config: buildWorkerConfig(c.options, c.database, handle) });
      return;
    case 'pcluster:connect-request':
      if (handle.state === 'exited') return; // read after its exit was handled: the grant would never come back
      if (c.budget.granted >= c.budget.max) {
        c.log.info({ worker: handle.slot, workerPid: handle.pid, budget: c.budget.max }, 'worker waits for the connection budget');
      }
      c.budget.request(handle.id, () => {
        handle.grantedAt = Date.now();
        handle.send({ type: 'pcluster:grant' });
      });
      return;
    case 'pcluster:ready':
      handle.update(message.status, now);
      if (message.address !== undefined) c.setAddress(message.address);
      return c.workers.markReady(handle, now);
    case 'pcluster:pong':
      handle.update(message.status, now);
      if (handle.isReady) handle.hasAnsweredHeartbeat = true;
      return c.announceIfAllReady();
    case 'pcluster:boot-failed':
      return c.workers.noteBootFailure(handle, message.error);
    case 'pcluster:db-state':
      return handle.noteDbState(message.state, message.backendPid, now);
    case 'pcluster:collected':
      c.collector.answered(message);
      return;
    case 'pcluster:server-connections':
      return c.monitor.answered(message);
    case 'pcluster:retiring':
      handle.lastTotals = keepTotals(message.metrics);
      return;
    case 'pcluster:access-log':
      return; // written as it arrives (#workerEvents), never queued
    case 'pcluster:boot-lock':
      if (handle.state === 'exited') return; // read after its exit: it would hold the lock for good
      return c.bootLock.request(handle.id, () => handle.send({ type: 'pcluster:boot-locked' }));
    case 'pcluster:boot-unlock':
      return c.bootLock.release(handle.id);
  }
}
