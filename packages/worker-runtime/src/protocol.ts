/**
 * The IPC vocabulary between the pcluster primary and its workers: one discriminated
 * union per direction, and a guard for each. Nothing else crosses the channel.
 */
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** `waiting`: refused for a connection limit (SQLSTATE 53300, SPEC §6); it holds no connection and retries until a slot frees. */
export const CONNECTION_STATES = ['connecting', 'open', 'broken', 'waiting', 'closing', 'closed'] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

/** How a worker reaches PostgreSQL; sent over IPC, never through argv or the environment. */
export interface DatabaseSettings {
  /** undefined: libpq PG* environment variables and defaults, as node-postgres reads them. */
  readonly connectionString: string | undefined;
  readonly applicationName: string;
  /** Session settings sent in the startup packet (`-c key=value`), so they hold after every reconnect. */
  readonly session: Readonly<Record<string, string>>;
  /**
   * False when pcluster was told nothing about the database (no --database-url, DATABASE_URL, PG* variables or
   * --embedded-postgres): the worker then takes its settings from the first Pool/Client config the app creates.
   */
  readonly isConfigured: boolean;
}

/**
 * Environment variables that carry the database password. Workers are forked without them (so they are not in
 * the worker's exec environment, /proc/<pid>/environ or `ps e`); their values come over IPC in `secretEnv` and
 * are put back into the worker's process.env before anything reads it, so the app and its pg see what they would.
 */
export const SECRET_ENV_NAMES = ['DATABASE_URL', 'PGPASSWORD'] as const;

export interface WorkerConfig {
  readonly name: string;
  readonly slot: number;
  readonly generation: number;
  readonly appPath: string;
  readonly port: number;
  readonly host: string;
  /**
   * Whether --port / PORT and --host were given: an app that calls listen() itself (SPEC §2) keeps the
   * port and host it asked for unless these say otherwise.
   */
  readonly isPortExplicit: boolean;
  readonly isHostExplicit: boolean;
  readonly database: DatabaseSettings;
  /** `on`: the app's own `pg` gets stand-ins running on the worker's connection (SPEC §2.1). */
  readonly pgCompat: 'on' | 'off';
  readonly gracefulTimeoutMs: number;
  /** --timeout: also how long an app that exports no handler has to call listen() (SPEC §2). */
  readonly timeoutMs: number;
  readonly leaseTimeoutMs: number;
  readonly validateAfterMs: number;
  readonly validationTimeoutMs: number;
  readonly connectionMaxAgeMs: number;
  readonly leakThresholdMs: number;
  /** At start, keep retrying an unreachable database this long before giving up (exit 4). */
  readonly waitForDbMs: number;
  /** --keepalive-timeout: TCP keepalives on both ends of the connection, and the longest silence with statements in flight (SPEC §6). */
  readonly keepaliveTimeoutMs: number;
  /** Report in as soon as this many requests are served (the primary then recycles); 0 = off. */
  readonly maxRequests: number;
  readonly prepare: 'off' | 'auto';
  /** `transaction`: behind PgBouncer in transaction pooling mode (SPEC §6): no backend is this worker's own. */
  readonly pooler: 'none' | 'transaction';
  /** Statements in flight on the connection at most (SPEC §3); 1 = one at a time. */
  readonly pipelineDepth: number;
  /** --bind unix:<path>: listen on this Unix socket (shared through node:cluster) instead of port and host. */
  readonly bindPath?: string;
  /** --user / --group as ids the primary checked: the worker drops to them before it loads the app. */
  readonly runAs?: RunAs;
  /** --access-log: each request's line, sent to the primary in batches (`pcluster:access-log`); undefined = off. */
  readonly accessLog?: 'combined' | 'json';
  /** The primary's values of SECRET_ENV_NAMES, restored into the worker's process.env at boot. */
  readonly secretEnv: Readonly<Partial<Record<(typeof SECRET_ENV_NAMES)[number], string>>>;
}

/** Who a worker runs as (gunicorn's --user/--group): initgroups(user, gid), setgid(gid), setuid(uid). */
export interface RunAs {
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
}

/**
 * Suffix of the application_name (PGAPPNAME) the app's own connections get (`--pg-compat off`, a second
 * database): PostgreSQL's count for the cluster includes them; the orphan check leaves them alone.
 */
export const APP_CONNECTION_SUFFIX = ':app';

/** An error as it crosses IPC: a stable code callers match on, and one human line. */
export interface SerializedError {
  readonly code: string;
  readonly message: string;
  /** Extra lines for the log (an app's own stack trace); never shown to HTTP clients. */
  readonly detail?: string;
}

export type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

export interface WorkerStatus {
  readonly requests: number;
  readonly rssBytes: number;
  readonly db: { readonly state: ConnectionState; readonly backendPid: number | null; readonly lastValidatedAt: string | null };
}

export type PrimaryMessage =
  | { readonly type: 'pcluster:configure'; readonly config: WorkerConfig }
  | { readonly type: 'pcluster:grant' }
  | { readonly type: 'pcluster:ping' }
  | { readonly type: 'pcluster:drain' }
  /** Comes with a connection (a raw TCP handle) a dead worker never accepted: serve it as one's own. */
  | { readonly type: 'pcluster:connection' }
  /** `withMetrics` false: status only (for /status), without serialising the whole registry. */
  | { readonly type: 'pcluster:collect'; readonly requestId: number; readonly withMetrics: boolean }
  /** Run on this worker's connection: what PostgreSQL shows for the cluster, after terminating `terminate` (orphans). */
  | { readonly type: 'pcluster:inspect-server'; readonly requestId: number; readonly applicationNamePrefix: string; readonly terminate: readonly number[] }
  /** The cluster's start-up lock is this worker's (asked for with 'pcluster:boot-lock'). */
  | { readonly type: 'pcluster:boot-locked' };

export type WorkerMessage =
  | { readonly type: 'pcluster:hello' }
  | { readonly type: 'pcluster:connect-request' }
  /** `address`: where it listens, for an app that started its own server (SPEC §2). */
  | { readonly type: 'pcluster:ready'; readonly status: WorkerStatus; readonly address?: { readonly host: string; readonly port: number } }
  | { readonly type: 'pcluster:pong'; readonly status: WorkerStatus }
  | { readonly type: 'pcluster:boot-failed'; readonly error: SerializedError }
  | { readonly type: 'pcluster:db-state'; readonly state: ConnectionState; readonly backendPid: number | null }
  | { readonly type: 'pcluster:collected'; readonly requestId: number; readonly metrics: WorkerMetrics | null; readonly status: WorkerStatus }
  | { readonly type: 'pcluster:retiring'; readonly metrics: WorkerMetrics }
  /** Finished requests' access-log lines, each ending in a newline: the primary alone writes the log, so lines never interleave. */
  | { readonly type: 'pcluster:access-log'; readonly lines: string }
  | { readonly type: 'pcluster:server-connections'; readonly requestId: number; readonly backends: readonly ServerBackend[] | null; readonly terminated: readonly number[] }
  /** Behind a transaction pooler the primary serialises start-up database work, where no advisory lock can (SPEC §2, §6). */
  | { readonly type: 'pcluster:boot-lock' }
  | { readonly type: 'pcluster:boot-unlock' };

/** One backend PostgreSQL reports for the cluster's application_name. */
export interface ServerBackend {
  readonly pid: number;
  readonly applicationName: string;
}

const PRIMARY_MESSAGE_TYPES: ReadonlySet<string> = new Set<PrimaryMessage['type']>([
  'pcluster:configure',
  'pcluster:grant',
  'pcluster:ping',
  'pcluster:drain',
  'pcluster:connection',
  'pcluster:collect',
  'pcluster:inspect-server',
  'pcluster:boot-locked',
]);
const WORKER_MESSAGE_TYPES: ReadonlySet<string> = new Set<WorkerMessage['type']>([
  'pcluster:hello',
  'pcluster:connect-request',
  'pcluster:ready',
  'pcluster:pong',
  'pcluster:boot-failed',
  'pcluster:db-state',
  'pcluster:collected',
  'pcluster:retiring',
  'pcluster:server-connections',
  'pcluster:access-log',
  'pcluster:boot-lock',
  'pcluster:boot-unlock',
]);

function hasType(value: unknown, types: ReadonlySet<string>): boolean {
  return typeof value === 'object' && value !== null && types.has((value as { type?: unknown }).type as string);
}

/** True when a message received by a worker is one of pcluster's. */
export function isPrimaryMessage(value: unknown): value is PrimaryMessage {
  return hasType(value, PRIMARY_MESSAGE_TYPES);
}

/** True when a message received by the primary is one of pcluster's. */
export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return hasType(value, WORKER_MESSAGE_TYPES);
}

/** Exit codes a worker uses to tell the primary why it could not boot (gunicorn's protocol). */
export const WORKER_EXIT = { appBootFailed: 3, databaseUnreachable: 4 } as const;
