import type { RunAs } from '@pcluster/worker-runtime/protocol';

/** Fully resolved, validated options of `pcluster start` (flag > env > config file > default). */
export interface StartOptions {
  /** Absolute path of the handler module. */
  readonly appPath: string;
  readonly name: string;
  readonly workers: number;
  readonly port: number;
  readonly host: string;
  /** Whether --port / PORT / a config-file port was given: an app that listens itself otherwise keeps the port it asks for. */
  readonly isPortExplicit: boolean;
  /** Whether --host or a config-file host was given. */
  readonly isHostExplicit: boolean;
  /** Connection string from --database-url / DATABASE_URL; undefined means libpq PG* env and defaults. */
  readonly databaseUrl: string | undefined;
  /** --embedded-postgres: undefined = off; null = throwaway temp dir; string = persistent data dir. */
  readonly embeddedPostgres: string | null | undefined;
  /**
   * Whether pcluster was told where the database is (--database-url, DATABASE_URL, --embedded-postgres or libpq
   * PGHOST/PGPORT/PGDATABASE/PGUSER); if not, the workers take it from the app's own first Pool/Client config.
   */
  readonly isDatabaseConfigured: boolean;
  /** `on`: the app's own `pg` runs on the worker's connection (SPEC §2.1). */
  readonly pgCompat: 'on' | 'off';
  /** Absolute paths of the --env-file files, already loaded into the environment before the options were resolved. */
  readonly envFiles: readonly string[];
  readonly metricsPort: number;
  readonly metricsHost: string;
  readonly maxRequests: number;
  readonly maxRequestsJitter: number;
  /** Bytes; undefined = off. */
  readonly maxMemoryBytes: number | undefined;
  /** undefined = off. */
  readonly maxAgeMs: number | undefined;
  readonly timeoutMs: number;
  readonly gracefulTimeoutMs: number;
  readonly maxConnections: number;
  /** False when --max-connections was left to its default (workers + 1), which then follows `scale`. */
  readonly isMaxConnectionsExplicit: boolean;
  readonly leaseTimeoutMs: number;
  readonly validateAfterMs: number;
  readonly validationTimeoutMs: number;
  readonly connectionMaxAgeMs: number;
  readonly leakThresholdMs: number;
  /** Session settings applied on every connect, e.g. { statement_timeout: '5s' }. */
  readonly session: Readonly<Record<string, string>>;
  readonly prepare: 'off' | 'auto';
  /** `transaction`: behind PgBouncer in transaction pooling mode (SPEC §6); the backends are the pooler's, not ours. */
  readonly pooler: 'none' | 'transaction';
  /** Statements in flight on a worker's connection at most; 1 = one at a time. */
  readonly pipelineDepth: number;
  readonly waitForDbMs: number;
  /** --keepalive-timeout: a database peer silent this long is dropped, on both ends (SPEC §6). */
  readonly keepaliveTimeoutMs: number;
  readonly appName: string;
  readonly logFormat: 'pretty' | 'json';
  /** Arguments for the worker node processes: --node-arg, preceded by the app's own tsx loader for a TypeScript app. */
  readonly nodeArgs: readonly string[];
  readonly controlSocket: string;
  /** --user / --group: the workers drop to this user and group before loading the app; undefined = unchanged. */
  readonly user: string | undefined;
  readonly group: string | undefined;
  /** --access-log: an absolute file path, `-` for the log stream, or undefined (off). */
  readonly accessLog: string | undefined;
  /** --bind unix:<path>: the absolute socket path served instead of host and port; undefined = TCP. */
  readonly bindPath: string | undefined;
  /** --user / --group as the ids the start checked (worker-identity.ts); undefined while unchecked or unchanged. */
  readonly runAs?: RunAs;
  /** --daemon: the foreground command returns once every worker is ready; the primary runs on, detached. */
  readonly daemon: boolean;
  /** Absolute path of the log file (--log-file; with --daemon, by default `<name>.log` beside the control socket); undefined = stdout. */
  readonly logFile: string | undefined;
  /** Absolute path of the --pid file. */
  readonly pidFile: string | undefined;
}
