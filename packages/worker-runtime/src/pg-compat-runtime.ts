/**
 * The worker's side of the app's own `pg` (SPEC §2.1): which Pool/Client configs run on the worker's
 * connection, where the connection's settings come from when pcluster was told nothing, and what the
 * real pg is left to (a second server or database: logged once, counted).
 */
import pg from 'pg';
import type { ConnectionKeeper } from './connection-keeper.js';
import type { DbSession } from './db-session.js';
import type { Logger } from './logger.js';
import { installPgCompatRuntime } from './pg-stand-ins.js';
import type { StatementPipeline } from './statement-pipeline.js';
import type { WorkerConfig } from './protocol.js';
import type { WorkerMetrics } from './worker-metrics.js';

interface Target {
  readonly host: string;
  readonly port: number;
  readonly database: string | undefined;
  readonly user: string | undefined;
}

const TARGET_KEYS = ['connectionString', 'host', 'port', 'database', 'user'] as const;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);

/** Where a config points, as node-postgres resolves it; undefined when the config names no server at all (then: wherever the worker is). */
export function configTarget(config: unknown): Target | undefined {
  const object = (typeof config === 'string' ? { connectionString: config } : config) as Record<string, unknown> | null | undefined;
  if (object == null || !TARGET_KEYS.some((key) => object[key] !== undefined && object[key] !== '')) return undefined;
  return describeTarget(object as pg.ClientConfig);
}

function describeTarget(config: pg.ClientConfig): Target {
  const { host, port, database, user } = new pg.Client(config);
  return { host: LOOPBACK.has(host) ? 'localhost' : host, port, database, user };
}

const sameTarget = (a: Target, b: Target): boolean => a.host === b.host && a.port === b.port && a.database === b.database && a.user === b.user;

export interface PgCompatDeps {
  readonly config: WorkerConfig;
  readonly keeper: ConnectionKeeper;
  readonly pipeline: StatementPipeline;
  readonly metrics: WorkerMetrics;
  readonly log: Logger;
  readonly openSession: (label: string, owner: DbSession | null) => DbSession;
}

/**
 * Installs the stand-ins and the module hooks that hand them to the app. Resolves `appSettings` when the
 * app's first Pool/Client has given the connection its settings (only when pcluster was told nothing).
 */
export function installPgCompat(deps: PgCompatDeps): { readonly appSettings: Promise<void>; adoptDefaults(): void } {
  const { config, keeper, pipeline, metrics, log } = deps;
  let settle: () => void = () => {};
  const appSettings = new Promise<void>((resolve) => (settle = resolve));
  let takesAppSettings = !config.database.isConfigured;
  let workerTarget = takesAppSettings ? undefined : describeTarget({ connectionString: config.database.connectionString });
  const foreignLogged = new Set<string>();

  installPgCompatRuntime({
    backgroundSession: (label) => deps.openSession(label, null),
    endSession: (session) => pipeline.endSession(session),
    whenReady: () => keeper.whenReady(Date.now() + config.leaseTimeoutMs),
    get backendPid() {
      return keeper.backendPid;
    },
    adopts(clientConfig, kind) {
      if (takesAppSettings) {
        takesAppSettings = false;
        const object = (typeof clientConfig === 'string' ? { connectionString: clientConfig } : (clientConfig ?? {})) as pg.ClientConfig;
        keeper.useAppSettings(object);
        workerTarget = describeTarget(object);
        settle();
        return true;
      }
      const target = configTarget(clientConfig);
      if (target === undefined || workerTarget === undefined || sameTarget(target, workerTarget)) return true;
      const where = `${target.host}:${target.port}, database "${target.database}", user "${target.user}"`;
      if (!foreignLogged.has(where)) {
        foreignLogged.add(where);
        log.warn({ kind, target: where }, `the app's pg ${kind} points at another server or database than the worker's (${where}); it gets the real pg and connections of its own, outside the budget`);
      }
      return false;
    },
    foreignConnected: (delta: 1 | -1) => metrics.foreignClients.inc(delta),
  });
  return {
    appSettings,
    /** The app loaded without making a Pool/Client: the connection goes where node-postgres' defaults point. */
    adoptDefaults() {
      if (!takesAppSettings) return;
      takesAppSettings = false;
      workerTarget = describeTarget({});
      settle();
    },
  };
}
