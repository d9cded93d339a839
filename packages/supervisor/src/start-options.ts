/** Fully resolved, validated options of `pcluster start` (flag > env > config file > default). */
export interface StartOptions {
  /** Absolute path of the handler module. */
  readonly appPath: string;
  readonly name: string;
  readonly workers: number;
  readonly port: number;
  readonly host: string;
  /** Connection string from --database-url / DATABASE_URL; undefined means libpq PG* env and defaults. */
  readonly databaseUrl: string | undefined;
  /** --embedded-postgres: undefined = off; null = throwaway temp dir; string = persistent data dir. */
  readonly embeddedPostgres: string | null | undefined;
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
  /** Statements in flight on a worker's connection at most; 1 = one at a time. */
  readonly pipelineDepth: number;
  readonly waitForDbMs: number;
  readonly appName: string;
  readonly logFormat: 'pretty' | 'json';
  readonly nodeArgs: readonly string[];
  readonly controlSocket: string;
}
