/**
 * Entry point of a pcluster worker process (forked by the primary with node:cluster): boots when the
 * primary sends its configuration (worker-boot.ts), then answers the primary's messages, drains on its
 * word or on SIGTERM, and exits when the primary is gone (orphan-watchdog.ts, if its event loop is blocked).
 */
import { serveHandedConnection, type RawConnection } from './handed-connection.js';
import { dropPrivileges } from './drop-privileges.js';
import { failAppBoot, describeThrown, send } from './ipc.js';
import { PRIMARY_STDERR_FD } from './logger.js';
import { startOrphanWatchdog } from './orphan-watchdog.js';
import { primaryBootLockGranted } from './primary-boot-lock.js';
import { isPrimaryMessage, type PrimaryMessage } from './protocol.js';
import { redactSecrets } from './redact.js';
import { runHookIn, bootWorker } from './worker-boot.js';
import { createWorker, type Worker } from './worker.js';

/** Read at load, while the primary that forked this worker is certainly its parent. */
const primaryPid = process.ppid;
let worker: Worker | undefined;
let grantConnection: (() => void) | undefined;
const connectionGranted = new Promise<void>((resolve) => {
  grantConnection = resolve;
});

async function boot(config: Extract<PrimaryMessage, { type: 'pcluster:configure' }>['config']): Promise<void> {
  process.title = `pcluster worker ${config.name}:${config.slot}`;
  Object.assign(process.env, config.secretEnv);
  // Before any of the app's code runs, as gunicorn's workers do; the primary keeps root for its sockets and files.
  if (config.runAs !== undefined) dropPrivileges(config.runAs);
  const w = (worker = createWorker(config));
  // Before this the event loop only waits for the primary's word: no app code has run that could block it.
  startOrphanWatchdog(
    { primaryPid, label: `pcluster worker ${config.name}:${config.slot} (pid ${process.pid})`, pollMs: 500, stderrFd: PRIMARY_STDERR_FD },
    (error) => w.log.warn({ err: error }, 'orphan watchdog thread failed; a blocked worker will not die with its primary'),
  );
  await bootWorker(w, connectionGranted);
}

/** Stops taking requests, lets in-flight ones finish, runs teardown, closes the connection, exits 0. */
async function drain(w: Worker): Promise<void> {
  if (w.isDraining) return;
  w.isDraining = true;
  const startedAt = Date.now();
  await w.http?.drain(w.config.gracefulTimeoutMs);
  await w.accessLog?.flush();
  await w.setupSettled;
  const session = w.openSession('teardown');
  try {
    await runHookIn(w, session, w.app?.teardown);
  } catch (error) {
    w.log.error({ err: error }, 'teardown() failed');
  } finally {
    w.pipeline.endSession(session);
  }
  await w.keeper.close();
  w.log.debug({ drainMs: Date.now() - startedAt }, 'worker drained');
  await send({ type: 'pcluster:retiring', metrics: await w.metrics.snapshot() });
  process.exit(0);
}

/** Drains, and leaves anyway if draining fails: a worker the primary is done with must not linger holding its connection. */
function drainOrExit(w: Worker): void {
  drain(w).catch((error: unknown) => {
    w.log.error({ err: error }, 'drain failed; exiting');
    process.exit(1);
  });
}

/**
 * The cluster's backends as PostgreSQL sees them: its application_name prefix, from this host. Every pod of a
 * Deployment runs the same --name, so other hosts' backends share the prefix; they are told apart by the address the
 * server sees them come from, the same as this worker's own session's (NULL for both over a Unix socket). Hosts
 * that reach the server through one address (NAT, a proxy) look like one host: README, "More than one host".
 */
const CLUSTER_BACKENDS = `SELECT pid, application_name FROM pg_stat_activity
  WHERE left(application_name, length($1)) = $1 AND client_addr IS NOT DISTINCT FROM inet_client_addr()`;

/** Answers the primary's question "what does PostgreSQL see for this cluster?" on this worker's own connection. */
async function inspectServer(w: Worker, message: Extract<PrimaryMessage, { type: 'pcluster:inspect-server' }>): Promise<void> {
  const session = w.openSession('pcluster:inspect-server');
  const prefix = message.applicationNamePrefix;
  try {
    const terminated = message.terminate.length === 0 ? [] : (await session.query<{ pid: number }>(
      // MATERIALIZED: the filter must run before pg_terminate_backend, whatever order the planner prefers.
      `WITH orphans AS MATERIALIZED (SELECT pid FROM (${CLUSTER_BACKENDS}) AS ours WHERE pid = ANY($2::int[]))
       SELECT pid FROM orphans WHERE pg_terminate_backend(pid)`,
      [prefix, message.terminate],
    )).rows.map((row) => row.pid);
    const { rows } = await session.query<{ pid: number; application_name: string }>(CLUSTER_BACKENDS, [prefix]);
    const backends = rows.map((row) => ({ pid: row.pid, applicationName: row.application_name }));
    await send({ type: 'pcluster:server-connections', requestId: message.requestId, backends, terminated });
  } catch (error) {
    w.log.debug({ err: error }, 'server connection inspection failed');
    await send({ type: 'pcluster:server-connections', requestId: message.requestId, backends: null, terminated: [] });
  } finally {
    w.pipeline.endSession(session);
  }
}

async function onMessage(message: PrimaryMessage): Promise<void> {
  switch (message.type) {
    case 'pcluster:configure':
      if (worker === undefined) await boot(message.config);
      return;
    case 'pcluster:grant':
      grantConnection?.();
      return;
    case 'pcluster:ping':
      if (worker !== undefined) await send({ type: 'pcluster:pong', status: worker.status() });
      return;
    case 'pcluster:drain':
      if (worker !== undefined) await drain(worker);
      else process.exit(0);
      return;
    case 'pcluster:connection':
      return; // carries a handle: served where it arrives (below)
    case 'pcluster:inspect-server':
      if (worker !== undefined) await inspectServer(worker, message);
      return;
    case 'pcluster:boot-locked':
      return primaryBootLockGranted();
    case 'pcluster:collect':
      if (worker === undefined) return;
      await send({
        type: 'pcluster:collected',
        requestId: message.requestId,
        metrics: message.withMetrics ? await worker.metrics.snapshot() : null,
        status: worker.status(),
      });
      return;
  }
}

process.on('message', (message: unknown, handle: unknown) => {
  if (!isPrimaryMessage(message)) return;
  if (message.type === 'pcluster:connection') return serveHandedConnection(worker?.http?.server, handle as RawConnection | undefined);
  onMessage(message).catch(async (error: unknown) => {
    // Each step reports its own failure; this is the net under them: a worker that cannot go on says why and leaves.
    const detail = redactSecrets(error instanceof Error ? (error.stack ?? error.message) : describeThrown(error));
    if (worker?.app === undefined && worker?.http === undefined) return failAppBoot({ code: 'PCLUSTER_APP_LOAD', message: detail });
    worker.log.error({ message: message.type, err: error }, 'worker failed handling a message from the primary; exiting');
    process.exit(1);
  });
});
// A promise rejection nobody handles (an Express 4 async route that throws, a query without a catch) is the app's bug
// and costs that one request: logged, not a crash that would drop every other request in flight on this worker.
process.on('unhandledRejection', (reason: unknown) => {
  if (worker !== undefined) worker.log.error({ err: reason }, 'unhandled promise rejection; the worker keeps serving');
  else console.error('pcluster worker: unhandled promise rejection before boot:', reason);
});
// The terminal sends Ctrl-C (and a hangup) to the whole process group; the primary decides how workers stop.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
process.on('SIGTERM', () => {
  if (worker !== undefined) drainOrExit(worker);
  else process.exit(0);
});
// Losing the primary needs no handler here: node:cluster exits a worker (code 0) as soon as its IPC channel closes
// unexpectedly, before any listener of ours would run; the orphan watchdog kills a worker whose event loop cannot.
void send({ type: 'pcluster:hello' });
