import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from 'pcluster/postgres';
import { killAll, processTree, waitForExit } from './process-tree.js';

export { processTree } from './process-tree.js';

export const BENCH_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(BENCH_ROOT, '..');
export const CLI = path.join(REPO_ROOT, 'packages/supervisor/dist/cli.js');
export const appPath = (file: string): string => path.join(BENCH_ROOT, 'apps', file);

/** A running server under test: where to send load, its processes, and how to stop it. */
export interface RunningContender {
  readonly port: number;
  /** The root of its process tree (the primary, or PM2's daemon). */
  readonly rootPid: number;
  /** A LIKE pattern matching the application_name of its PostgreSQL backends and of no other contender's. */
  readonly applicationName: string;
  /** Every pid of the tree as last seen (root first): what to SIGKILL if stop() cannot run. */
  pids(): readonly number[];
  /** Stops it and resolves once every process of its tree is gone. */
  stop(): Promise<void>;
}

/**
 * A primary killed with SIGKILL (a benchmark that gives up on it) leaves its control socket in ./.pcluster, where
 * `pcluster status` would find it: removed once the child has exited, however it ended.
 */
export function removeControlSocketOnExit(child: ChildProcess, name: string): void {
  const socketPath = path.resolve('.pcluster', `${name}.sock`);
  child.once('exit', () => rmSync(socketPath, { force: true }));
}

/** `url` with `application_name` set, so that its backends can be told apart in pg_stat_activity. */
export function withApplicationName(url: string, name: string): string {
  const withName = new URL(url);
  withName.searchParams.set('application_name', name);
  return withName.toString();
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `url` until it answers 200. */
export async function waitUntilServing(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      await response.text();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up within ${timeoutMs}ms`);
    await sleep(50);
  }
}

/**
 * The contender for a child process that is the root of its tree: `stop()` sends SIGTERM,
 * waits up to `graceMs` for the whole tree to go, then SIGKILLs whatever is left.
 */
export async function childContender(child: ChildProcess, port: number, applicationName: string, graceMs = 15_000): Promise<RunningContender> {
  let known = await processTree(child.pid!);
  return {
    port,
    rootPid: child.pid!,
    applicationName,
    pids: () => known,
    async stop() {
      known = await processTree(child.pid!).then((tree) => [...new Set([...known, ...tree])]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      if (!(await waitForExit(known, graceMs))) {
        killAll(known);
        await waitForExit(known, 5_000);
      }
    },
  };
}

export interface StatusWorker {
  readonly state: string;
  readonly generation: number;
}

/** GET /status of a pcluster primary, or undefined while it does not answer. */
export async function pclusterStatus(metricsPort: number): Promise<{ workers: StatusWorker[] } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${metricsPort}/status`);
    return response.ok ? ((await response.json()) as { workers: StatusWorker[] }) : undefined;
  } catch {
    return undefined;
  }
}

/** Starts `pcluster start` on a benchmark app and resolves once all `workers` are ready; kills it if they are not within `timeoutMs`. */
export async function startPcluster(
  databaseUrl: string,
  workers: number,
  extraArgs: readonly string[] = [],
  { app = appPath('pcluster-app.mjs'), timeoutMs = 60_000, cli = CLI }: { app?: string; timeoutMs?: number; cli?: string } = {},
): Promise<RunningContender & { child: ChildProcess; metricsPort: number }> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [
    cli, 'start', app, '--workers', String(workers), '--port', String(port),
    '--metrics-port', String(metricsPort), '--database-url', databaseUrl, '--log-format', 'json', '--name', `bench${port}`, ...extraArgs,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  removeControlSocketOnExit(child, `bench${port}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await pclusterStatus(metricsPort);
    if (status !== undefined && status.workers.length === workers && status.workers.every((w) => w.state === 'ready')) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      const tree = await processTree(child.pid!);
      killAll(tree);
      throw new Error(`pcluster did not come up for the benchmark (exit code ${child.exitCode})`);
    }
    await sleep(50);
  }
  // pcluster names its backends itself: pcluster:<--name>:<slot>.
  return { child, metricsPort, ...(await childContender(child, port, `pcluster:bench${port}:%`, 40_000)) };
}
