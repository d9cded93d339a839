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
 * Network namespaces of the test's own: a database host and `hosts` app hosts, each joined to the database's by a
 * veth pair on a /30 of 10.231.0.0/16: only addresses inside them are used. `cut(i)` takes app host i's end down.
 */
export class NetworkLab {
  readonly dbNamespace: string;
  readonly #tag: string;
  readonly #subnet: string;
  readonly #hosts: number;

  private constructor(hosts: number) {
    this.#tag = String(process.pid % 100_000);
    this.#subnet = `10.231.${process.pid % 250}`;
    this.#hosts = hosts;
    this.dbNamespace = `pc${this.#tag}db`;
  }

  static async create(hosts: number): Promise<NetworkLab> {
    const lab = new NetworkLab(hosts);
    try {
      await run('ip', ['netns', 'add', lab.dbNamespace]);
      await run('ip', ['-n', lab.dbNamespace, 'link', 'set', 'lo', 'up']);
      for (let i = 0; i < hosts; i++) {
        const [dbVeth, hostVeth, host] = [`pc${lab.#tag}d${i}`, lab.#veth(i), lab.#namespace(i)];
        for (const step of [
          ['netns', 'add', host], ['-n', host, 'link', 'set', 'lo', 'up'],
          ['link', 'add', dbVeth, 'type', 'veth', 'peer', 'name', hostVeth],
          ['link', 'set', dbVeth, 'netns', lab.dbNamespace], ['link', 'set', hostVeth, 'netns', host],
          ['-n', lab.dbNamespace, 'addr', 'add', `${lab.dbAddress(i)}/30`, 'dev', dbVeth], ['-n', host, 'addr', 'add', `${lab.#subnet}.${4 * i + 2}/30`, 'dev', hostVeth],
          ['-n', lab.dbNamespace, 'link', 'set', dbVeth, 'up'], ['-n', host, 'link', 'set', hostVeth, 'up'],
        ]) await run('ip', step);
      }
    } catch (error) {
      await lab.destroy();
      throw error;
    }
    return lab;
  }

  /** The database host's address on app host i's link. */
  dbAddress(i: number): string {
    return `${this.#subnet}.${4 * i + 1}`;
  }

  /** The prefix that runs a command inside app host i's namespace (it execs in place: same pid). */
  inHost(i: number): readonly string[] {
    return ['ip', 'netns', 'exec', this.#namespace(i)];
  }

  /** The HTTP status of GET `url` as seen from app host i (0: no answer within `maxTimeS`). */
  async statusFromHost(i: number, url: string, maxTimeS = 10): Promise<number> {
    const { stdout } = await run('ip', ['netns', 'exec', this.#namespace(i), 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', String(maxTimeS), url]).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '0' }));
    return Number(stdout);
  }

  /** The body of GET `url` from app host i. */
  async textFromHost(i: number, url: string): Promise<string> {
    return (await run('ip', ['netns', 'exec', this.#namespace(i), 'curl', '-s', '--max-time', '10', url])).stdout;
  }

  /** The JSON body of GET `url` from app host i. */
  async jsonFromHost<T>(i: number, url: string): Promise<T> {
    return JSON.parse(await this.textFromHost(i, url)) as T;
  }

  async cut(i: number): Promise<void> {
    await run('ip', ['-n', this.#namespace(i), 'link', 'set', this.#veth(i), 'down']);
  }

  async heal(i: number): Promise<void> {
    await run('ip', ['-n', this.#namespace(i), 'link', 'set', this.#veth(i), 'up']);
  }

  /** Deleting the namespaces deletes the veth pairs with them. */
  async destroy(): Promise<void> {
    const namespaces = [this.dbNamespace, ...Array.from({ length: this.#hosts }, (_, i) => this.#namespace(i))];
    for (const ns of namespaces) await run('ip', ['netns', 'del', ns]).catch(() => {});
  }

  #namespace(i: number): string {
    return `pc${this.#tag}h${i}`;
  }

  #veth(i: number): string {
    return `pc${this.#tag}v${i}`;
  }
}

export interface NamespacedPostgres {
  /** A URL to the server's address on app host i's link, logging in as `user` (the superuser by default). */
  url(i: number, login?: { user: string; password: string }): string;
  /** A superuser client over the Unix socket, which crosses namespaces (for the test's own queries). */
  admin(): Promise<pg.Client>;
  stop(): Promise<void>;
}

/** A throwaway PostgreSQL listening inside the database namespace (whose only addresses are the lab's), password logins from the lab's subnet. */
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
    path.join(binDir, 'postgres'), '-D', dataDir, '-p', '5432', '-k', socketDir, '-c', 'listen_addresses=*', '-c', 'fsync=off',
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
  const url = (i: number, login = { user, password }): string => {
    const at = new URL(`postgres://${lab.dbAddress(i)}:5432/${database}`);
    at.username = login.user;
    at.password = login.password;
    return at.toString();
  };
  return { url, admin, stop };
}

/** A lab of `hosts` app hosts with a PostgreSQL inside it, for one describe block: made before, destroyed after. */
export interface LabEnvironment {
  readonly lab: NetworkLab;
  readonly postgres: NamespacedPostgres;
  readonly admin: pg.Client;
}

/** Mocha hooks for a LabEnvironment; the block is skipped with the reason where namespaces cannot be made (not root, a tool missing). */
export function useNetworkLab(hosts: number): LabEnvironment {
  let lab: NetworkLab | undefined;
  let postgres: NamespacedPostgres | undefined;
  let admin: pg.Client | undefined;
  before(async function () {
    this.timeout(90_000);
    const unsupported = namespaceSupport();
    if (unsupported !== undefined) {
      console.warn(`      skipped: ${unsupported}`);
      this.skip();
    }
    lab = await NetworkLab.create(hosts);
    postgres = await startPostgresIn(lab);
    admin = await postgres.admin();
  });
  after(async () => {
    await admin?.end().catch(() => {});
    await postgres?.stop();
    await lab?.destroy();
  });
  return {
    get lab() { return lab!; },
    get postgres() { return postgres!; },
    get admin() { return admin!; },
  };
}
