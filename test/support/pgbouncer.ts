import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { giveTo, runAs, serverOsUser } from 'pcluster/internal/postgres/server-os-user';
import { debianTools } from './debian-tools.js';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

/** A PgBouncer started by a test in front of one PostgreSQL server. */
export interface Pgbouncer {
  readonly port: number;
  /** The same user, password and database as the server's URL, through PgBouncer. */
  readonly connectionString: string;
  /** Stops it (SIGTERM: immediate shutdown) and removes its directory. */
  stop(): Promise<void>;
}

/** The pgbouncer binary from Debian's `pgbouncer` package (installed now when root), or why there is none. */
export async function pgbouncerBinary(): Promise<string | { missing: string }> {
  const found = await debianTools('pgbouncer', ['pgbouncer']);
  return 'missing' in found ? found : found.pgbouncer;
}

const quoted = (value: string): string => `"${value.replace(/"/g, '""')}"`;

/**
 * Starts `binary` on a free port in transaction pooling mode in front of the server `serverUrl`,
 * with its own ini and auth file in a temp dir. md5 auth with a plain-text auth file: PgBouncer
 * logs into a scram-sha-256 server with that password. As root it runs as PostgreSQL's OS user.
 */
export async function startPgbouncer(binary: string, serverUrl: string, settings: Readonly<Record<string, string>> = {}): Promise<Pgbouncer> {
  const server = new URL(serverUrl);
  const [user, password] = [decodeURIComponent(server.username), decodeURIComponent(server.password)];
  const port = await freePort();
  const osUser = serverOsUser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pcluster-pgbouncer-'));
  giveTo(dir, osUser);
  const ini = {
    listen_addr: '127.0.0.1',
    listen_port: String(port),
    unix_socket_dir: dir,
    auth_type: 'md5',
    auth_file: path.join(dir, 'userlist.txt'),
    pool_mode: 'transaction',
    max_client_conn: '200',
    default_pool_size: '10',
    logfile: path.join(dir, 'pgbouncer.log'),
    pidfile: path.join(dir, 'pgbouncer.pid'),
    ...settings,
  };
  const files = {
    'userlist.txt': `${quoted(user)} ${quoted(password)}\n`,
    'pgbouncer.ini': [
      '[databases]',
      `* = host=${server.hostname} port=${server.port}`,
      '[pgbouncer]',
      ...Object.entries(ini).map(([key, value]) => `${key} = ${value}`),
      '',
    ].join('\n'),
  };
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(path.join(dir, name), text, { mode: 0o600 });
    giveTo(path.join(dir, name), osUser);
  }
  const child: ChildProcess = spawn(binary, [path.join(dir, 'pgbouncer.ini')], { ...runAs(osUser), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = (): string => `${stderr}${(() => { try { return readFileSync(ini.logfile, 'utf8'); } catch { return ''; } })()}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const through = new URL(serverUrl);
  through.port = String(port);
  const connectionString = through.toString();
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`pgbouncer exited with status ${child.exitCode}:\n${log()}`);
      const client = new pg.Client({ connectionString });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => {});
      }
    }, 15_000, `pgbouncer on port ${port}`);
  } catch (error) {
    const reason = (error as Error).message;
    const text = reason.includes('pgbouncer exited') ? reason : `${reason}\n${log()}`;
    await stop();
    throw new Error(text);
  }
  return { port, connectionString, stop };
}

/**
 * Mocha hooks for one describe block: a PgBouncer in front of `serverUrl()` (read in the before hook), then `prepare`
 * on it; stopped after. Skipped with the reason when there is no pgbouncer (not root, no package). Returns a getter.
 */
export function usePgbouncer(serverUrl: () => string, settings: Readonly<Record<string, string>>, prepare?: (bouncer: Pgbouncer) => Promise<void>): () => Pgbouncer {
  let bouncer: Pgbouncer | undefined;
  before(async function () {
    this.timeout(15 * 60_000);
    const binary = await pgbouncerBinary();
    if (typeof binary !== 'string') {
      console.warn(`      skipped: ${binary.missing}`);
      this.skip();
    }
    bouncer = await startPgbouncer(binary, serverUrl(), settings);
    await prepare?.(bouncer);
  });
  after(async () => {
    await bouncer?.stop();
  });
  return () => bouncer!;
}
