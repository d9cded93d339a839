import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { findPostgresBinaries } from './find-binaries.js';
import { assertExecutableBy, serverUser, type ServerUser } from './server-user.js';

export interface PostgresServerOptions {
  /** Persistent data directory (reused when it holds a cluster); omitted: a temp dir removed by destroy(). */
  readonly dataDir?: string;
  readonly port?: number;
  readonly user?: string;
  readonly database?: string;
  readonly password?: string;
  readonly maxConnections?: number;
  readonly settings?: Readonly<Record<string, string>>;
  /** Receives the server's log lines; by default they are kept (the last 50) for error messages only. */
  readonly log?: (line: string) => void;
}

const PASSWORD_FILE = '.pcluster-password';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const running = new Set<ChildProcess>();
process.on('exit', () => {
  // Last resort for a crashed run: never leave a server behind.
  for (const child of running) child.kill('SIGQUIT');
});

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A PostgreSQL server owned by this process (tests, benchmarks, `--embedded-postgres`):
 * scram-sha-256 password auth on 127.0.0.1, stoppable and restartable on the same port.
 */
export class PostgresServer {
  readonly host = '127.0.0.1';
  readonly port: number;
  readonly user: string;
  declare readonly password: string;
  readonly database: string;
  readonly binDir: string;
  readonly dataDir: string;
  version = '';
  readonly #isTemporary: boolean;
  readonly #osUser: ServerUser | undefined;
  readonly #options: PostgresServerOptions;
  readonly #recentLog: string[] = [];
  #child: ChildProcess | undefined;

  constructor(fields: { port: number; user: string; password: string; database: string; binDir: string; dataDir: string; isTemporary: boolean; osUser: ServerUser | undefined; options: PostgresServerOptions }) {
    this.port = fields.port;
    this.user = fields.user;
    // Non-enumerable, as pg-pool does, so the password never lands in a log or a JSON dump of this object.
    Object.defineProperty(this, 'password', { value: fields.password, enumerable: false });
    this.database = fields.database;
    this.binDir = fields.binDir;
    this.dataDir = fields.dataDir;
    this.#isTemporary = fields.isTemporary;
    this.#osUser = fields.osUser;
    this.#options = fields.options;
  }

  get connectionString(): string {
    return `postgres://${encodeURIComponent(this.user)}:${encodeURIComponent(this.password)}@${this.host}:${this.port}/${encodeURIComponent(this.database)}`;
  }

  get isRunning(): boolean {
    return this.#child !== undefined;
  }

  /** Starts the server and waits until it accepts a password login. */
  async start(): Promise<void> {
    if (this.#child !== undefined) return;
    const settings: Record<string, string> = {
      listen_addresses: this.host,
      port: String(this.port),
      unix_socket_directories: path.join(this.dataDir, 'socket'),
      max_connections: String(this.#options.maxConnections ?? 100),
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      ...this.#options.settings,
    };
    const args = ['-D', path.join(this.dataDir, 'pgdata'), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const child = spawn(path.join(this.binDir, 'postgres'), args, { ...this.#spawnIdentity(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    running.add(child);
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        for (const line of chunk.split('\n').filter(Boolean)) {
          this.#recentLog.push(line);
          if (this.#recentLog.length > 50) this.#recentLog.shift();
          this.#options.log?.(line);
        }
      });
    }
    child.once('exit', () => {
      running.delete(child);
      if (this.#child === child) this.#child = undefined;
    });
    await this.#waitUntilAcceptingLogins();
  }

  /** Stops the server: `fast` (SIGINT) rolls back and disconnects clients, `immediate` (SIGQUIT) aborts. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  async restart(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.stop(mode);
    await this.start();
  }

  /** Stops the server and removes its data, unless the data directory was the caller's. */
  async destroy(): Promise<void> {
    await this.stop('immediate');
    if (this.#isTemporary) rmSync(this.dataDir, { recursive: true, force: true });
  }

  #spawnIdentity(): { uid?: number; gid?: number; cwd: string } {
    return this.#osUser === undefined ? { cwd: this.dataDir } : { uid: this.#osUser.uid, gid: this.#osUser.gid, cwd: this.dataDir };
  }

  async #waitUntilAcceptingLogins(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (this.#child === undefined) throw new Error(`PostgreSQL exited during start-up: ${this.#recentLog.slice(-5).join(' | ')}`);
      const client = new pg.Client({ connectionString: this.connectionString.replace(/\/[^/]*$/, '/postgres'), connectionTimeoutMillis: 1_000 });
      client.on('error', () => {});
      try {
        await client.connect();
      } catch (error) {
        await client.end().catch(() => {});
        if (Date.now() > deadline) {
          throw new Error(`PostgreSQL on port ${this.port} did not accept logins within ${READY_TIMEOUT_MS / 1000}s (${(error as Error).message}): ${this.#recentLog.slice(-5).join(' | ')}`);
        }
        await sleep(100);
        continue;
      }
      try {
        this.version = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
        const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [this.database]);
        if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(this.database)}`);
        return;
      } finally {
        await client.end().catch(() => {});
      }
    }
  }
}

/** initdb with scram-sha-256 password auth, as the server's OS user. */
async function initCluster(binDir: string, dataDir: string, user: string, password: string, osUser: ServerUser | undefined): Promise<void> {
  const passwordFile = path.join(dataDir, 'initdb-password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (osUser !== undefined) chownSync(passwordFile, osUser.uid, osUser.gid);
  const identity = osUser === undefined ? {} : { uid: osUser.uid, gid: osUser.gid };
  try {
    await promisify(execFile)(
      path.join(binDir, 'initdb'),
      ['-D', path.join(dataDir, 'pgdata'), '-U', user, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-instructions'],
      { ...identity, cwd: dataDir },
    );
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim().split('\n').at(-1);
    throw new Error(`initdb failed in ${dataDir}: ${stderr || (error as Error).message}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/** Starts a PostgreSQL server of our own (initdb first when the data directory is new). */
export async function startPostgres(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const { binDir } = await findPostgresBinaries();
  const osUser = serverUser();
  assertExecutableBy(osUser, path.join(binDir, 'postgres'));
  const isTemporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'pcluster-pg-'));
  mkdirSync(path.join(dataDir, 'socket'), { recursive: true });
  for (const dir of [dataDir, path.join(dataDir, 'socket')]) if (osUser !== undefined) chownSync(dir, osUser.uid, osUser.gid);
  const user = options.user ?? 'pcluster';
  const passwordPath = path.join(dataDir, PASSWORD_FILE);
  const isNew = !existsSync(path.join(dataDir, 'pgdata', 'PG_VERSION'));
  const password = isNew ? (options.password ?? randomBytes(18).toString('base64url')) : options.password ?? readFileSync(passwordPath, 'utf8').trim();
  if (isNew) {
    await initCluster(binDir, dataDir, user, password, osUser);
    if (!isTemporary) writeFileSync(passwordPath, `${password}\n`, { mode: 0o600 });
  }
  const server = new PostgresServer({
    port: options.port ?? (await freePort()),
    user,
    password,
    database: options.database ?? 'pcluster',
    binDir,
    dataDir,
    isTemporary,
    osUser,
    options,
  });
  try {
    await server.start();
  } catch (error) {
    await server.destroy();
    throw error;
  }
  return server;
}
