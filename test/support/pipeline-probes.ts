import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { startCluster, fixture, type ClusterProcess } from './cluster-process.js';
import { adminClient } from './database.js';
import { request, type Outcome } from './requests.js';
import { waitFor } from './wait-for.js';

/** The backend of worker `slot`'s connection as PostgreSQL shows it: its pid and the client's TCP port. */
export async function workerBackend(admin: pg.Client, clusterName: string, slot = 1): Promise<{ pid: number; clientPort: number }> {
  const { rows } = await admin.query('SELECT pid, client_port FROM pg_stat_activity WHERE application_name = $1', [`pcluster:${clusterName}:${slot}`]);
  if (rows.length !== 1) throw new Error(`expected one backend named pcluster:${clusterName}:${slot}, found ${rows.length}`);
  if (rows[0].client_port === null) throw new Error('the worker\'s connection is not TCP: its receive queue cannot be read from /proc/net/tcp');
  return { pid: rows[0].pid, clientPort: rows[0].client_port };
}

/** The port of an IPv4 or IPv6 address as /proc/net/tcp* prints it (`0100007F:1F90`). */
const portOf = (address: string): number => parseInt(address.slice(address.lastIndexOf(':') + 1), 16);

/**
 * Bytes the kernel holds in the receive queue of the server's end of the TCP connection from
 * `clientPort`: what the client has written that the backend has not read yet. The server and the
 * client run on this host, so the socket is in this network namespace's /proc/net/tcp.
 */
export async function serverReceiveQueueBytes(admin: pg.Client, clientPort: number): Promise<number> {
  const { rows } = await admin.query('SELECT inet_server_port() AS port');
  const serverPort: number = rows[0].port;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (await readFile(table, 'utf8')).split('\n').slice(1)) {
      const [, local, remote, , queues] = line.trim().split(/\s+/);
      if (local === undefined || remote === undefined || queues === undefined) continue;
      if (portOf(local) === serverPort && portOf(remote) === clientPort) return parseInt(queues.split(':')[1]!, 16);
    }
  }
  throw new Error(`no server-side socket for client port ${clientPort} in /proc/net/tcp`);
}

/** Waits until more than `bytes` are queued at the server for the connection from `clientPort`; returns how many. */
export async function waitUntilQueuedBeyond(admin: pg.Client, clientPort: number, bytes: number): Promise<number> {
  let queued = 0;
  await waitFor(async () => (queued = await serverReceiveQueueBytes(admin, clientPort)) > bytes, 10_000, `more than ${bytes} bytes queued at the server`);
  return queued;
}

/** Resolves once backend `pid` is waiting for an advisory lock. */
export async function waitUntilWaitingForAdvisoryLock(admin: pg.Client, pid: number): Promise<void> {
  await waitFor(async () => {
    const { rows } = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory'", [pid]);
    return rows[0].n === 1;
  }, 10_000, `backend ${pid} to wait for the advisory lock`);
}

/**
 * Resolves once the cluster's output holds `submitted <tag>` (printed by test/fixtures/pipeline-app.mjs): the app's
 * console.log, which reaches the cluster's output as a log line of its worker.
 */
export async function waitUntilSubmitted(cluster: ClusterProcess, tag: string): Promise<void> {
  await waitFor(() => cluster.stdout.includes(`"msg":"submitted ${tag}"`), 10_000, `the statement of request ${tag} to reach pcluster`);
}

export interface AdvisoryLock {
  /** The key of the lock held now. */
  key(): number;
  hold(): Promise<void>;
  release(): Promise<void>;
}

/**
 * An advisory lock held by a connection of its own, for one test file: statements that take it
 * (shared) wait on the server until `release()`; released after each test and closed after the file, whatever happened.
 */
export function useAdvisoryLock(): AdvisoryLock {
  let holder: pg.Client | undefined;
  let key = 0;
  before(async () => {
    holder = await adminClient();
  });
  afterEach(async () => {
    await holder?.query('SELECT pg_advisory_unlock_all()');
  });
  after(async () => {
    await holder?.end();
  });
  const client = (): pg.Client => {
    if (holder === undefined) throw new Error('the lock holder is not connected yet');
    return holder;
  };
  return {
    key: () => key,
    async hold() {
      key = 1 + Math.floor(Math.random() * 2 ** 31);
      await client().query('SELECT pg_advisory_lock($1::bigint)', [key]);
    },
    async release() {
      await client().query('SELECT pg_advisory_unlock_all()');
    },
  };
}

/**
 * A one-worker cluster of test/fixtures/pipeline-app.mjs (started with `args`) whose request A waits
 * on the server for `lock`, held now: whatever the worker writes behind A stays queued at the server
 * until `lock.release()`.
 */
export async function startWithRequestWaitingOnLock(
  admin: pg.Client, lock: AdvisoryLock, args: readonly string[] = [],
): Promise<{ cluster: ClusterProcess; backend: { pid: number; clientPort: number }; a: Promise<Outcome> }> {
  const cluster = await startCluster(fixture('pipeline-app.mjs'), { workers: 1, args });
  const backend = await workerBackend(admin, cluster.name);
  await lock.hold();
  const a = request(`${cluster.url}/lock?key=${lock.key()}`);
  await waitUntilWaitingForAdvisoryLock(admin, backend.pid);
  return { cluster, backend, a };
}
