import { rmSync } from 'node:fs';
import pg from 'pg';
import { Postmaster } from './postmaster.js';
import { privateTempDir } from './private-temp-dir.js';
import { onProcessExit } from './process-exit-cleanup.js';
import type { PostgresServer } from './postgres-server.js';
import { PostgresServerError } from './postgres-server-error.js';
import { DURABILITY_SETTINGS, serverArgs } from './server-args.js';
import type { ServerLog } from './server-log.js';
import type { ServerOsUser } from './server-os-user.js';
import { waitForLogin } from './wait-for-login.js';

export interface OwnedPostgresServerConfig {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly binDir: string;
  readonly dataDir: string;
  readonly version: string;
  readonly isTemporary: boolean;
  readonly osUser: ServerOsUser | undefined;
  readonly maxConnections: number;
  readonly settings: Readonly<Record<string, string>>;
  readonly startTimeoutMs: number;
  readonly ownProcessGroup: boolean;
  readonly log: ServerLog;
}

const removeDir = (dir: string): void => rmSync(dir, { recursive: true, force: true, maxRetries: 3 });

/** A cluster this process owns and runs: one postmaster at a time, start/stop/destroy one after another. */
export class OwnedPostgresServer implements PostgresServer {
  readonly host = '127.0.0.1';
  readonly port: number;
  readonly user: string;
  declare readonly password: string;
  readonly database: string;
  readonly binDir: string;
  readonly dataDir: string;
  readonly version: string;
  readonly isTemporary: boolean;
  readonly #config: Omit<OwnedPostgresServerConfig, 'password'>;
  readonly #forgetAtExit: () => void;
  #postmaster: Postmaster | undefined;
  #socketDir: string | undefined;
  #isDestroyed = false;
  #durabilityOff: readonly string[] = [];
  #pending: Promise<unknown> = Promise.resolve();

  constructor({ password, ...config }: OwnedPostgresServerConfig) {
    this.port = config.port;
    this.user = config.user;
    this.database = config.database;
    this.binDir = config.binDir;
    this.dataDir = config.dataDir;
    this.version = config.version;
    this.isTemporary = config.isTemporary;
    // Non-enumerable, as pg-pool does, so the password never lands in a log or a JSON dump.
    Object.defineProperty(this, 'password', { value: password, enumerable: false });
    this.#config = config;
    this.#forgetAtExit = onProcessExit(() => this.#abandon());
  }

  get connectionString(): string {
    const auth = `${encodeURIComponent(this.user)}:${encodeURIComponent(this.password)}`;
    return `postgres://${auth}@${this.host}:${this.port}/${encodeURIComponent(this.database)}`;
  }

  get durabilityOff(): readonly string[] {
    return this.#durabilityOff;
  }

  get isRunning(): boolean {
    return this.#postmaster !== undefined && !this.#postmaster.hasExited;
  }

  /** Starts the postmaster and resolves once a password login succeeds and the database exists. */
  start(): Promise<void> {
    return this.#serialise(() => this.#start());
  }

  stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    return this.#serialise(() => this.#stop(mode));
  }

  restart(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    return this.#serialise(async () => {
      await this.#stop(mode);
      await this.#start();
    });
  }

  destroy(): Promise<void> {
    return this.#serialise(async () => {
      if (this.#isDestroyed) return;
      // A temp cluster's data is about to go: no need for a clean shutdown.
      await this.#stop(this.#config.isTemporary ? 'immediate' : 'fast');
      if (this.#config.isTemporary) removeDir(this.dataDir);
      this.#isDestroyed = true;
      this.#forgetAtExit();
    });
  }

  #serialise(operation: () => Promise<void>): Promise<void> {
    const result = this.#pending.then(operation);
    this.#pending = result.catch(() => {});
    return result;
  }

  async #start(): Promise<void> {
    if (this.#isDestroyed) throw new PostgresServerError('PCLUSTER_PG_DESTROYED', `the PostgreSQL server on port ${this.port} was destroyed; start a new one with startPostgres()`);
    if (this.isRunning) return;
    const { osUser, log, maxConnections, settings, ownProcessGroup, isTemporary } = this.#config;
    log.clear();
    // Our own socket directory: the build's default (/var/run/postgresql) may not exist or be writable.
    this.#socketDir ??= privateTempDir('pcluster-pg-socket-', osUser);
    const args = serverArgs({ dataDir: this.dataDir, isTemporary, host: this.host, port: this.port, socketDir: this.#socketDir, maxConnections, settings });
    const postmaster = new Postmaster(this.binDir, args, osUser, log, ownProcessGroup);
    this.#postmaster = postmaster;
    try {
      await this.#awaitLoginAndDatabase(postmaster);
    } catch (error) {
      await this.#stop('immediate');
      throw error;
    }
    postmaster.unref();
  }

  async #awaitLoginAndDatabase(postmaster: Postmaster): Promise<void> {
    const { startTimeoutMs, log } = this.#config;
    const client = await waitForLogin(
      { host: this.host, port: this.port, user: this.user, password: this.password, database: 'postgres' },
      { timeoutMs: startTimeoutMs, exited: postmaster.exited, explain: () => log.summary() },
    );
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [this.database]);
      if (rowCount === 0) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(this.database)}`);
      // As the server runs them, whichever file or flag set them.
      const off = await client.query<{ name: string }>(
        "SELECT name FROM pg_settings WHERE name = ANY($1::text[]) AND setting = 'off' ORDER BY array_position($1::text[], name::text)",
        [DURABILITY_SETTINGS],
      );
      this.#durabilityOff = off.rows.map((row) => row.name);
    } finally {
      await client.end().catch(() => {});
    }
  }

  async #stop(mode: 'fast' | 'immediate'): Promise<void> {
    await this.#postmaster?.stop(mode);
    this.#postmaster = undefined;
    if (this.#socketDir !== undefined) removeDir(this.#socketDir);
    this.#socketDir = undefined;
  }

  /** At process exit (synchronous): SIGQUIT the server and remove what lives in temp dirs. */
  #abandon(): void {
    this.#postmaster?.quit();
    for (const dir of [this.#socketDir, this.#config.isTemporary ? this.dataDir : undefined]) {
      if (dir !== undefined) removeDir(dir);
    }
  }
}
