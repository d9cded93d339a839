/**
 * A worker's boot (SPEC §2, §2.1): the app's own pg and listen() caught first, then the connection the
 * budget grants, the app module and its setup() with a database context (serialised across the cluster
 * by an advisory lock, taken only if they touch the database), then its server, adopted or pcluster's.
 */
import type http from 'node:http';
import { loadAppModule, noListenerMessage, type AppModule, type LifecycleHook } from './app-module.js';
import type { DbSession } from './db-session.js';
import { appError, failAppBoot, failBoot, send } from './ipc.js';
import { catchListen, describeListenRequest } from './listen-catcher.js';
import { listenFailure } from './listen-failure.js';
import { installModuleHooks } from './module-hooks.js';
import { installPgCompat } from './pg-compat-runtime.js';
import { acquirePrimaryBootLock, releasePrimaryBootLock } from './primary-boot-lock.js';
import { APP_CONNECTION_SUFFIX, WORKER_EXIT } from './protocol.js';
import { reconnectWarning } from './reconnect-warning.js';
import { redactSecrets } from './redact.js';
import { runHookWithDb } from './request-context.js';
import type { Worker } from './worker.js';
import { WorkerHttpServer, type WorkerHttpServerDeps } from './worker-http-server.js';


function httpDeps(w: Worker): Omit<WorkerHttpServerDeps, 'app'> {
  const { config } = w;
  const afterResponse =
    config.maxRequests > 0
      ? () => {
          if (w.metrics.requests === config.maxRequests) void send({ type: 'pcluster:pong', status: w.status() });
        }
      : undefined;
  return { pipeline: w.pipeline, openSession: w.openSession, metrics: w.metrics, log: w.log, accessLog: w.accessLog, ...(afterResponse === undefined ? {} : { afterResponse }) };
}

/** Resolves when `server` listens; rejects with its listen error. */
function listening(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (server.listening) return resolve();
    server.once('listening', resolve);
    server.once('error', reject);
  });
}

/** The app's server adopted when it calls listen(): the port it asked for unless --port (or PORT) says otherwise. */
function catchAppServer(w: Worker, ownServers: WeakSet<http.Server>): Promise<void> {
  const { config } = w;
  let adopted: (server: http.Server) => void = () => {};
  const caught = new Promise<http.Server>((resolve) => (adopted = resolve));
  catchListen(
    {
      adopt(server, request) {
        w.http = WorkerHttpServer.adopt(server, httpDeps(w));
        adopted(server);
        if (config.bindPath !== undefined) return { path: config.bindPath };
        const port = config.isPortExplicit || request.port === undefined || request.port === 0 ? config.port : request.port;
        const host = config.isHostExplicit || request.host === undefined ? config.host : request.host;
        w.log.debug({ port, host, asked: describeListenRequest(request) }, 'adopted the server the app started');
        return { port, host };
      },
      listenedTwice(first, second) {
        void failAppBoot({
          code: 'PCLUSTER_LISTEN',
          message: `${config.appPath} listens on ${describeListenRequest(first)} and on ${describeListenRequest(second)}; pcluster serves one port per worker (--port): start the second server outside the app`,
        });
      },
    },
    (server) => ownServers.has(server),
  );
  return caught.then(listening);
}

/**
 * The boot's session: `setup()` and database work while the module loads run in it, under a cluster-wide advisory
 * lock. Behind a transaction pooler, under the primary's lock instead: an advisory lock would be taken on one of the
 * pooler's server connections and the unlock sent on another, leaving it held for good and later boots waiting on it.
 */
function bootSession(w: Worker): DbSession & { unlock(): Promise<void> } {
  const session = w.openSession('app load and setup()');
  if (w.config.pooler === 'transaction') {
    let held: Promise<void> | undefined;
    session.gate = () => (held ??= acquirePrimaryBootLock());
    return Object.assign(session, {
      async unlock(): Promise<void> {
        session.gate = undefined;
        if (held !== undefined) await held.then(releasePrimaryBootLock);
      },
    });
  }
  const key = `pcluster:boot:${w.config.name}`;
  let locked: Promise<unknown> | undefined;
  session.gate = () => (locked ??= w.pipeline.submit(session, w.runner.plan('SELECT pg_advisory_lock(hashtext($1))', [key])));
  return Object.assign(session, {
    async unlock(): Promise<void> {
      session.gate = undefined;
      if (locked !== undefined) await locked.then(() => session.query('SELECT pg_advisory_unlock(hashtext($1))', [key])).catch(() => {});
    },
  });
}

async function openConnection(w: Worker): Promise<void> {
  try {
    await w.keeper.open(w.config.waitForDbMs, (error, attempt, retryInMs) => {
      const { fields, message } = reconnectWarning(error, attempt, retryInMs);
      w.log.warn(fields, `${message}; waiting for it (--wait-for-db)`);
    });
  } catch (error) {
    const summary = (error as { summary?: string }).summary ?? String(error);
    await failBoot(WORKER_EXIT.databaseUnreachable, { code: 'PCLUSTER_DB_CONNECT', message: redactSecrets(summary) });
  }
}

export async function runHookIn(w: Worker, session: DbSession, hook: LifecycleHook | undefined): Promise<void> {
  if (hook !== undefined) await runHookWithDb(session, () => hook({ db: session, workerId: w.config.slot, log: w.log }));
}

/** Boots `w` once the budget grants its connection; a drain that comes meanwhile wins at every step. */
export async function bootWorker(w: Worker, connectionGranted: Promise<void>): Promise<void> {
  const { config } = w;
  const ownServers = new WeakSet<http.Server>();
  const appListening = catchAppServer(w, ownServers);
  // The app's own connections (--pg-compat off, a second database) show up as the cluster's in pg_stat_activity.
  process.env['PGAPPNAME'] ??= `${config.database.applicationName}${APP_CONNECTION_SUFFIX}`;
  const compat = config.pgCompat === 'on' ? installPgCompat({ ...w, openSession: (label, owner) => w.openSession(label, owner) }) : undefined;
  installModuleHooks({ pg: compat !== undefined, appPath: config.appPath });
  await send({ type: 'pcluster:connect-request' });
  await connectionGranted;
  const deadline = Date.now() + config.timeoutMs;
  // Told nothing about the database, the worker connects where the app's first Pool/Client points, as soon as it makes one.
  const isDeferred = compat !== undefined && !config.database.isConfigured;
  const opened = isDeferred ? compat.appSettings.then(() => openConnection(w)) : openConnection(w);
  if (!isDeferred) await opened;
  if (w.isDraining) return;
  const boot = bootSession(w);
  let app: AppModule | undefined;
  try {
    const loaded = await runHookWithDb(boot, () => loadAppModule(config.appPath));
    app = loaded.kind === 'none' ? undefined : loaded;
    if (loaded.kind === 'none' && w.http === undefined) {
      // Exporting nothing, it may still start its server once its own start-up is done; exporting something else, it is a mistake.
      if (loaded.exported !== 'nothing') return failAppBoot({ code: 'PCLUSTER_BAD_MODULE', message: noListenerMessage(config.appPath, loaded.exported, undefined) });
      await waitForListen(w, appListening, deadline);
    }
  } catch (error) {
    const code = (error as { code?: string } | null | undefined)?.code === 'PCLUSTER_BAD_MODULE' ? 'PCLUSTER_BAD_MODULE' : 'PCLUSTER_APP_LOAD';
    return failAppBoot(appError(code, code === 'PCLUSTER_BAD_MODULE' ? '' : `${config.appPath} failed to load: `, error));
  }
  w.app = app;
  if (isDeferred) {
    compat.adoptDefaults();
    await opened;
  }
  if (w.isDraining) return;
  const setup = runHookIn(w, boot, app?.setup);
  w.setupSettled = setup.then(() => {}, () => {});
  try {
    await setup;
  } catch (error) {
    return failAppBoot(appError('PCLUSTER_APP_SETUP', `${config.appPath}: setup() failed: `, error));
  } finally {
    await boot.unlock();
    w.pipeline.endSession(boot);
  }
  if (w.isDraining) return;
  try {
    if (w.http === undefined) {
      w.http = new WorkerHttpServer({ app: app!, ...httpDeps(w) });
      ownServers.add(w.http.server);
      await w.http.listen(config.bindPath !== undefined ? { path: config.bindPath } : { port: config.port, host: config.host });
    } else await appListening;
  } catch (error) {
    return failAppBoot(listenFailure(error, config));
  }
  w.log.debug({ backendPid: w.keeper.backendPid, generation: config.generation }, 'worker ready');
  const address = w.http.server.address();
  const where = typeof address === 'object' && address !== null ? { address: { host: address.address, port: address.port } } : {};
  await send({ type: 'pcluster:ready', status: w.status(), ...where });
}

/** An app that exports no listener may still call listen() once its own start-up is done: until `deadline`. */
async function waitForListen(w: Worker, appListening: Promise<void>, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, Math.max(deadline - Date.now(), 0), 'timeout')));
  const outcome = await Promise.race([appListening.then(() => 'listening' as const, () => 'listening' as const), timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') await failAppBoot({ code: 'PCLUSTER_BAD_MODULE', message: noListenerMessage(w.config.appPath, 'nothing', w.config.timeoutMs) });
}
