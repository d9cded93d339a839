/** One worker process' parts: its connection, the pipeline on it, its metrics and log, and (once booted) its app and server. */
import { AccessLog } from './access-log.js';
import type { AppModule } from './app-module.js';
import { ConnectionKeeper } from './connection-keeper.js';
import { DbSession } from './db-session.js';
import { send } from './ipc.js';
import { createLogger, createLogStream, WORKER_LOG_FD, type Logger } from './logger.js';
import type { ConnectionState, WorkerConfig, WorkerStatus } from './protocol.js';
import { QueryRunner } from './query-runner.js';
import { describeError, reconnectWarning } from './reconnect-warning.js';
import { StatementPipeline } from './statement-pipeline.js';
import type { WorkerHttpServer } from './worker-http-server.js';
import { WorkerMetrics } from './worker-metrics.js';

export interface Worker {
  readonly config: WorkerConfig;
  readonly log: Logger;
  readonly metrics: WorkerMetrics;
  readonly keeper: ConnectionKeeper;
  readonly pipeline: StatementPipeline;
  readonly runner: QueryRunner;
  /** A session for a request (its own owner), or for work on behalf of `owner` (null: background). */
  readonly openSession: (label: string, owner?: DbSession | null) => DbSession;
  readonly status: () => WorkerStatus;
  /** --access-log; undefined when off (no cost per request). */
  readonly accessLog: AccessLog | undefined;
  app?: AppModule | undefined;
  http?: WorkerHttpServer;
  isDraining: boolean;
  /** Settles when setup() has (a drain waits for it: teardown runs after setup, never beside it). */
  setupSettled?: Promise<void>;
}

export function createWorker(config: WorkerConfig): Worker {
  // JSON records on their own pipe to the primary, which renders them with its own lines (and apart from the app's output).
  const log = createLogger({ stream: createLogStream('json', WORKER_LOG_FD), base: { worker: config.slot, pid: process.pid } });
  const metrics = new WorkerMetrics(config.slot);
  let lastReportedState: ConnectionState | undefined;
  let lastReportedPid: number | null = null;
  let isBooted = false;
  let isWaitingForSlot = false;
  let failedAttempts = 0;
  const keeper = new ConnectionKeeper(config, {
    stateChanged: (state, backendPid) => {
      // One line when the worker starts waiting for a server slot and one when it gets it; none per attempt.
      if (state === 'waiting' && !isWaitingForSlot) {
        isWaitingForSlot = true;
        log.warn({}, 'PostgreSQL refused the login for a connection limit (SQLSTATE 53300); waiting for a server slot');
      } else if (state === 'open' && isWaitingForSlot) {
        isWaitingForSlot = false;
        log.info({ backendPid }, 'got a server slot after waiting for one');
      }
      metrics.connectionState = state;
      if (state === lastReportedState && backendPid === lastReportedPid) return;
      lastReportedState = state;
      lastReportedPid = backendPid;
      void send({ type: 'pcluster:db-state', state, backendPid });
    },
    connected: (result) => {
      metrics.connects.inc({ result });
      if (result !== 'success') return;
      if (isBooted) log.info({ backendPid: keeper.backendPid, attempts: failedAttempts + 1 }, 'database reconnected');
      isBooted = true;
      failedAttempts = 0;
    },
    reconnectFailed: (error, attempt, retryInMs) => {
      failedAttempts = attempt;
      const { fields, message } = reconnectWarning(error, attempt, retryInMs);
      log.warn(fields, message);
    },
    validated: (result) => metrics.countValidation(result),
    lost: (error) => {
      // Its stack would only show the driver's parser: what the server or the socket said is the news.
      if (error === undefined) log.warn('database connection lost; reconnecting');
      else log.warn({ code: (error as { code?: unknown }).code }, `database connection lost; reconnecting: ${describeError(error)}`);
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
  const openSession = (label: string, owner?: DbSession | null): DbSession => new DbSession(pipeline, runner, label, owner);
  const status = (): WorkerStatus => ({
    requests: metrics.requests,
    rssBytes: process.memoryUsage.rss(),
    db: { state: keeper.state, backendPid: keeper.backendPid, lastValidatedAt: keeper.lastValidatedAt?.toISOString() ?? null },
  });
  const accessLog = config.accessLog === undefined ? undefined : new AccessLog(config.accessLog, config.slot, send);
  return { config, log, metrics, keeper, pipeline, runner, openSession, status, accessLog, isDraining: false };
}
