/**
 * Entry point of a pcluster worker process (forked by the primary with node:cluster).
 * Boot order: configuration over IPC, one database connection, the app module, its
 * setup(), then listen and report ready. Any boot failure is reported once and ends
 * the process with the exit code the primary understands (3 app, 4 database).
 */
import { loadAppModule, type AppModule, type LifecycleHook } from './app-module.js';
import { ConnectionKeeper } from './connection-keeper.js';
import { DbSession } from './db-session.js';
import { createLogger, type Logger } from './logger.js';
import {
  isPrimaryMessage,
  WORKER_EXIT,
  type ConnectionState,
  type PrimaryMessage,
  type SerializedError,
  type WorkerConfig,
  type WorkerMessage,
  type WorkerStatus,
} from './protocol.js';
import { QueryRunner } from './query-runner.js';
import { redactSecrets } from './redact.js';
import { runHookWithDb } from './request-context.js';
import { StatementPipeline } from './statement-pipeline.js';
import { WorkerHttpServer } from './worker-http-server.js';
import { WorkerMetrics } from './worker-metrics.js';

interface Worker {
  readonly config: WorkerConfig;
  readonly log: Logger;
  readonly metrics: WorkerMetrics;
  readonly keeper: ConnectionKeeper;
  readonly pipeline: StatementPipeline;
  readonly openSession: (label: string) => DbSession;
  app?: AppModule;
  http?: WorkerHttpServer;
  isDraining: boolean;
  /** Settles when setup() has (a drain waits for it: teardown runs after setup, never beside it). */
  setupSettled?: Promise<void>;
}

let worker: Worker | undefined;
let grantConnection: (() => void) | undefined;
const connectionGranted = new Promise<void>((resolve) => {
  grantConnection = resolve;
});

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, undefined, () => resolve());
  });
}

function status(w: Worker): WorkerStatus {
  return {
    requests: w.metrics.requests,
    rssBytes: process.memoryUsage.rss(),
    db: { state: w.keeper.state, backendPid: w.keeper.backendPid, lastValidatedAt: w.keeper.lastValidatedAt?.toISOString() ?? null },
  };
}

async function failBoot(exitCode: number, error: SerializedError): Promise<never> {
  await send({ type: 'pcluster:boot-failed', error });
  process.exit(exitCode);
}

/** What a module or hook threw, as text: `throw null` and objects without a prototype have no String() of their own. */
function describeThrown(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function appError(code: string, prefix: string, error: unknown): SerializedError {
  const message = error instanceof Error ? error.message : describeThrown(error);
  const detail = error instanceof Error ? error.stack : undefined;
  return { code, message: redactSecrets(`${prefix}${message}`), ...(detail === undefined ? {} : { detail: redactSecrets(detail) }) };
}

async function runHook(w: Worker, name: 'setup' | 'teardown', hook: LifecycleHook | undefined): Promise<void> {
  if (hook === undefined) return;
  const session = w.openSession(name);
  try {
    await runHookWithDb(session, () => hook({ db: session, workerId: w.config.slot, log: w.log }));
  } finally {
    w.pipeline.endSession(session);
  }
}

let lastReportedState: ConnectionState | undefined;
let lastReportedPid: number | null = null;

function createWorker(config: WorkerConfig): Worker {
  const log = createLogger({ format: config.logFormat, base: { worker: config.slot, pid: process.pid } });
  const metrics = new WorkerMetrics(config.slot);
  const keeper = new ConnectionKeeper(config, {
    stateChanged: (state, backendPid) => {
      metrics.connectionState = state;
      if (state === lastReportedState && backendPid === lastReportedPid) return;
      lastReportedState = state;
      lastReportedPid = backendPid;
      void send({ type: 'pcluster:db-state', state, backendPid });
    },
    connected: (result, error) => {
      metrics.connects.inc({ result });
      if (result === 'failure' && worker?.app !== undefined) log.warn({ err: error }, 'database reconnect failed');
      if (result === 'success' && worker?.app !== undefined) log.info({ backendPid: keeper.backendPid }, 'database reconnected');
    },
    validated: (result) => metrics.countValidation(result),
    lost: (error) => {
      log.warn({ err: error }, 'database connection lost; reconnecting');
      pipeline.connectionLost();
    },
  });
  const pipeline = new StatementPipeline(keeper, config, {
    written: (seconds, depth) => {
      metrics.leaseWait.observe(seconds);
      metrics.pipelineDepth.observe(depth);
    },
    rolledBack: (session, heldMs) => {
      metrics.rollbacks.inc();
      log.warn({ request: session.label, durationMs: Date.now() - session.startedAt, heldMs }, 'request finished inside a transaction; rolled back');
    },
    leaked: (session, heldMs) => log.warn({ request: session.label, heldMs }, 'request has held the connection in a transaction past --leak-threshold'),
  });
  const runner = new QueryRunner(config.prepare);
  const openSession = (label: string): DbSession => new DbSession(pipeline, runner, label);
  return { config, log, metrics, keeper, pipeline, openSession, isDraining: false };
}

async function boot(config: WorkerConfig): Promise<void> {
  process.title = `pcluster worker ${config.name}:${config.slot}`;
  const w = (worker = createWorker(config));
  // The primary's connection budget decides when this worker may open its connection.
  await send({ type: 'pcluster:connect-request' });
  await connectionGranted;
  try {
    await w.keeper.open(config.waitForDbMs, (error, delayMs) =>
      w.log.warn({ err: error, retryInMs: delayMs }, 'database unreachable; waiting for it (--wait-for-db)'),
    );
  } catch (error) {
    const summary = (error as { summary?: string }).summary ?? String(error);
    return failBoot(WORKER_EXIT.databaseUnreachable, { code: 'PCLUSTER_DB_CONNECT', message: redactSecrets(summary) });
  }
  // A drain that came during the boot (a stop, a scale-down) wins, at every step: this worker never takes traffic.
  if (w.isDraining) return;
  try {
    w.app = await loadAppModule(config.appPath);
  } catch (error) {
    const code = (error as { code?: string } | null | undefined)?.code === 'PCLUSTER_BAD_MODULE' ? 'PCLUSTER_BAD_MODULE' : 'PCLUSTER_APP_LOAD';
    const prefix = code === 'PCLUSTER_BAD_MODULE' ? '' : `${config.appPath} failed to load: `;
    return failBoot(WORKER_EXIT.appBootFailed, appError(code, prefix, error));
  }
  if (w.isDraining) return;
  const setup = runHook(w, 'setup', w.app.setup);
  w.setupSettled = setup.then(() => {}, () => {});
  try {
    await setup;
  } catch (error) {
    return failBoot(WORKER_EXIT.appBootFailed, appError('PCLUSTER_APP_SETUP', `${config.appPath}: setup() failed: `, error));
  }
  if (w.isDraining) return;
  const afterResponse =
    config.maxRequests > 0
      ? () => {
          if (w.metrics.requests === config.maxRequests) void send({ type: 'pcluster:pong', status: status(w) });
        }
      : undefined;
  w.http = new WorkerHttpServer({ app: w.app, pipeline: w.pipeline, openSession: w.openSession, metrics: w.metrics, log: w.log, ...(afterResponse === undefined ? {} : { afterResponse }) });
  try {
    await w.http.listen(config.port, config.host);
  } catch (error) {
    return failBoot(WORKER_EXIT.appBootFailed, appError('PCLUSTER_LISTEN', `cannot listen on ${config.host}:${config.port}: `, error));
  }
  w.log.debug({ backendPid: w.keeper.backendPid, generation: config.generation }, 'worker ready');
  await send({ type: 'pcluster:ready', status: status(w) });
}

/** Stops taking requests, lets in-flight ones finish, runs teardown, closes the connection, exits 0. */
async function drain(w: Worker): Promise<void> {
  if (w.isDraining) return;
  w.isDraining = true;
  const startedAt = Date.now();
  await w.http?.drain(w.config.gracefulTimeoutMs);
  await w.setupSettled;
  try {
    await runHook(w, 'teardown', w.app?.teardown);
  } catch (error) {
    w.log.error({ err: error }, 'teardown() failed');
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

/** Answers the primary's question "what does PostgreSQL see for this cluster?" on this worker's own connection. */
async function inspectServer(w: Worker, message: Extract<PrimaryMessage, { type: 'pcluster:inspect-server' }>): Promise<void> {
  const session = w.openSession('pcluster:inspect-server');
  const prefix = message.applicationNamePrefix;
  try {
    const terminated = message.terminate.length === 0 ? [] : (await session.query<{ pid: number }>(
      // MATERIALIZED: the filter must run before pg_terminate_backend, whatever order the planner prefers.
      `WITH orphans AS MATERIALIZED (
         SELECT pid FROM pg_stat_activity WHERE pid = ANY($1::int[]) AND left(application_name, length($2)) = $2)
       SELECT pid FROM orphans WHERE pg_terminate_backend(pid)`,
      [message.terminate, prefix],
    )).rows.map((row) => row.pid);
    const { rows } = await session.query<{ pid: number; application_name: string }>(
      'SELECT pid, application_name FROM pg_stat_activity WHERE left(application_name, length($1)) = $1',
      [prefix],
    );
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
      if (worker !== undefined) await send({ type: 'pcluster:pong', status: status(worker) });
      return;
    case 'pcluster:drain':
      if (worker !== undefined) await drain(worker);
      else process.exit(0);
      return;
    case 'pcluster:inspect-server':
      if (worker !== undefined) await inspectServer(worker, message);
      return;
    case 'pcluster:collect':
      if (worker === undefined) return;
      await send({
        type: 'pcluster:collected',
        requestId: message.requestId,
        metrics: message.withMetrics ? await worker.metrics.snapshot() : null,
        status: status(worker),
      });
      return;
  }
}

process.on('message', (message: unknown) => {
  if (!isPrimaryMessage(message)) return;
  onMessage(message).catch(async (error: unknown) => {
    // Each step reports its own failure; this is the net under them: a worker that cannot go on says why and leaves.
    const detail = redactSecrets(error instanceof Error ? (error.stack ?? error.message) : describeThrown(error));
    if (worker?.app === undefined) return failBoot(WORKER_EXIT.appBootFailed, { code: 'PCLUSTER_APP_LOAD', message: detail });
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
// Losing the primary means nobody routes traffic here any more: drain and leave.
process.on('disconnect', () => {
  if (worker !== undefined) drainOrExit(worker);
  else process.exit(0);
});
void send({ type: 'pcluster:hello' });
