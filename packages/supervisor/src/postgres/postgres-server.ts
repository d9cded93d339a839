export interface PostgresServerOptions {
  /**
   * Persistent data directory (PGDATA). Missing or empty: a cluster is created there and its
   * password saved in `<dataDir>/.pcluster-password` (mode 0600). Holding a cluster (PG_VERSION):
   * reused, with the password from that file unless `password` is given. It runs PostgreSQL's
   * durable defaults. Omitted: a temp dir under os.tmpdir(), removed by destroy(), run with
   * fsync, synchronous_commit and full_page_writes off (a crash may corrupt it: it is throwaway).
   */
  readonly dataDir?: string;
  /** TCP port on 127.0.0.1; default: a random free port, kept across stop()/start(). */
  readonly port?: number;
  /** Superuser name; default 'pcluster'. */
  readonly user?: string;
  /** Database to connect to, created if missing; default 'pcluster'. */
  readonly database?: string;
  /** Superuser password for a new cluster; default: 24 random bytes. */
  readonly password?: string;
  /** Server max_connections; default 100. */
  readonly maxConnections?: number;
  /** Extra `-c name=value` server settings (they override the temp dir's fsync, synchronous_commit and full_page_writes). */
  readonly settings?: Readonly<Record<string, string>>;
  /** Receives every server log line; by default they are discarded (the last 50 still explain failures). */
  readonly log?: (line: string) => void;
  /** How long start() waits for the first successful login; default 30 000. */
  readonly startTimeoutMs?: number;
  /**
   * Start the server in its own process group, so a terminal's Ctrl-C reaches only its owner,
   * which stops it when it is done with it (the supervisor: after its workers have drained).
   * Default false: a script without a SIGINT handler then takes its server down with it.
   */
  readonly ownProcessGroup?: boolean;
}

/**
 * A PostgreSQL server owned by this process, with scram-sha-256 password logins on 127.0.0.1.
 * A running server does not keep Node alive by itself; if this process exits without
 * destroy(), the server is stopped (immediate) and its temp dirs removed.
 */
export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Non-enumerable, so it never lands in a console.log or JSON dump of the server. */
  readonly password: string;
  readonly database: string;
  /** The postgres:// URL of this server: user, password, 127.0.0.1, port and database, percent-encoded. */
  readonly connectionString: string;
  readonly binDir: string;
  readonly dataDir: string;
  /** As the server reports it: `15.18 (Debian 15.18-0+deb12u1)`. */
  readonly version: string;
  /** True for the temp dir destroy() removes; false for a caller's dataDir, which is never removed. */
  readonly isTemporary: boolean;
  /**
   * Which of fsync, synchronous_commit and full_page_writes the server reported off at its last
   * start(): all three for a temp dir, none (durable) for a dataDir unless settings or its own
   * configuration files say otherwise.
   */
  readonly durabilityOff: readonly string[];
  readonly isRunning: boolean;
  /**
   * Stops the server: 'fast' (SIGINT) disconnects clients and checkpoints; 'immediate' (SIGQUIT)
   * is a crash: a temp dir (synchronous_commit off) may lose the last fraction of a second of commits.
   */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again after stop(): same port, same data. */
  start(): Promise<void>;
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops the server and removes its data if it lives in a temp dir (never a caller's dataDir). */
  destroy(): Promise<void>;
}
