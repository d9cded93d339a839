import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, chownSync, mkdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { startPostgres } from 'pcluster/postgres';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

/** Why network namespaces cannot be made here (not root, no iproute2), or undefined when they can. */
export function namespaceSupport(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add); run the tests as root';
  for (const [command, debianPackage] of [['curl', 'curl'], ['setpriv', 'util-linux']] as const) {
    if (spawnSync(command, ['--version']).error !== undefined) return `${command} is missing: apt-get install ${debianPackage}`;
  }
  const probe = `pcprobe${process.pid}`;
  const added = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (added.error !== undefined) return 'the ip command (iproute2) is missing: apt-get install iproute2';
  if (added.status !== 0) return `ip netns add failed: ${added.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

/**
 * Two network namespaces of the test's own, a database host and an app host, joined by a veth pair on a /30 of
 * 10.231.0.0/16: only addresses inside them are used. `cut()` takes the app host's end down (a partition).
 */
export class NetworkLab {
  readonly dbNamespace: string;
  readonly hostNamespace: string;
  readonly dbAddress: string;
  readonly #hostVeth: string;

  private constructor(tag: string, subnet: number) {
    this.dbNamespace = `pc${tag}db`;
    this.hostNamespace = `pc${tag}host`;
    this.#hostVeth = `pc${tag}h`;
    this.dbAddress = `10.231.${subnet}.1`;
  }

  static async create(): Promise<NetworkLab> {
    const tag = String(process.pid % 100_000);
    const lab = new NetworkLab(tag, process.pid % 250);
    const dbVeth = `pc${tag}d`;
    const host = lab.dbAddress.replace(/\.1$/, '.2');
    const steps = [
      ['netns', 'add', lab.dbNamespace], ['netns', 'add', lab.hostNamespace],
      ['link', 'add', dbVeth, 'type', 'veth', 'peer', 'name', lab.#hostVeth],
      ['link', 'set', dbVeth, 'netns', lab.dbNamespace], ['link', 'set', lab.#hostVeth, 'netns', lab.hostNamespace],
      ['-n', lab.dbNamespace, 'addr', 'add', `${lab.dbAddress}/30`, 'dev', dbVeth], ['-n', lab.hostNamespace, 'addr', 'add', `${host}/30`, 'dev', lab.#hostVeth],
      ['-n', lab.dbNamespace, 'link', 'set', dbVeth, 'up'], ['-n', lab.hostNamespace, 'link', 'set', lab.#hostVeth, 'up'],
      ['-n', lab.dbNamespace, 'link', 'set', 'lo', 'up'], ['-n', lab.hostNamespace, 'link', 'set', 'lo', 'up'],
    ];
    try {
      for (const step of steps) await run('ip', step);
    } catch (error) {
      await lab.destroy();
      throw error;
    }
    return lab;
  }

  /** The prefix that runs a command inside the app host's namespace (it execs in place: same pid). */
  get inHost(): readonly string[] {
    return ['ip', 'netns', 'exec', this.hostNamespace];
  }

  /** The HTTP status of GET `url` as seen from the app host (0: no answer within `maxTimeS`). */
  async statusFromHost(url: string, maxTimeS = 10): Promise<number> {
    const { stdout } = await run('ip', ['netns', 'exec', this.hostNamespace, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', String(maxTimeS), url]).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '0' }));
    return Number(stdout);
  }

  /** The JSON body of GET `url` from the app host. */
  async jsonFromHost<T>(url: string): Promise<T> {
    return JSON.parse((await run('ip', ['netns', 'exec', this.hostNamespace, 'curl', '-s', '--max-time', '10', url])).stdout) as T;
  }

  async cut(): Promise<void> {
    await run('ip', ['-n', this.hostNamespace, 'link', 'set', this.#hostVeth, 'down']);
  }

  async heal(): Promise<void> {
    await run('ip', ['-n', this.hostNamespace, 'link', 'set', this.#hostVeth, 'up']);
  }

  /** Deleting the namespaces deletes the veth pair with them. */
  async destroy(): Promise<void> {
    for (const ns of [this.dbNamespace, this.hostNamespace]) await run('ip', ['netns', 'del', ns]).catch(() => {});
  }
}

export interface NamespacedPostgres {
  /** A URL to the server's address inside the database namespace (for the app host). */
  readonly url: string;
  /** A superuser client over the Unix socket, which crosses namespaces (for the test's own queries). */
  admin(): Promise<pg.Client>;
  stop(): Promise<void>;
}

/** A throwaway PostgreSQL listening on `lab.dbAddress` inside the database namespace, trusting password logins from the lab's subnet. */
export async function startPostgresIn(lab: NetworkLab): Promise<NamespacedPostgres> {
  const root = path.join(os.tmpdir(), `pcluster-partition-${process.pid}-${Date.now()}`);
  const dataDir = path.join(root, 'data');
  // Created (initdb) and first started on 127.0.0.1 as usual, then stopped and run inside the namespace.
  const initial = await startPostgres({ dataDir });
  const { user, password, database, binDir } = initial;
  await initial.stop();
  appendFileSync(path.join(dataDir, 'pg_hba.conf'), '\nhost all all 10.231.0.0/16 scram-sha-256\n');
  const { uid, gid } = statSync(dataDir);
  const socketDir = path.join(root, 'socket');
  mkdirSync(socketDir);
  chownSync(socketDir, uid, gid);
  const child: ChildProcess = spawn('ip', [
    'netns', 'exec', lab.dbNamespace, 'setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--',
    path.join(binDir, 'postgres'), '-D', dataDir, '-p', '5432', '-k', socketDir, '-c', `listen_addresses=${lab.dbAddress}`, '-c', 'fsync=off',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const admin = async (): Promise<pg.Client> => {
    const client = new pg.Client({ host: socketDir, port: 5432, user, password, database, application_name: 'pcluster-test-admin' });
    client.on('error', () => {});
    await client.connect();
    return client;
  };
  const stop = async (): Promise<void> => {
    child.kill('SIGINT');
    await exited;
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => (await admin().then((c) => c.end().then(() => true), () => false)), 30_000, `PostgreSQL in ${lab.dbNamespace} to accept logins (${stderr})`);
  } catch (error) {
    await stop();
    throw error;
  }
  const url = new URL(`postgres://${lab.dbAddress}:5432/`);
  url.username = user;
  url.password = password;
  url.pathname = `/${database}`;
  return { url: url.toString(), admin, stop };
}
