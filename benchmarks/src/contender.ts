import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from 'pcluster/postgres';

export const BENCH_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(BENCH_ROOT, '..');
const CLI = path.join(REPO_ROOT, 'packages/supervisor/dist/cli.js');

/** A running server under test: where to send load, and how to stop it. */
export interface RunningContender {
  readonly port: number;
  readonly pids: () => number[];
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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

/** The pids of `root` and all its descendants (from /proc), for RSS sampling. */
export async function processTree(root: number): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    parents.set(Number(entry), ppid);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of parents) if (ppid === tree[i]) tree.push(pid);
  return tree;
}

/** Starts `pcluster start` on the benchmark app and waits until all workers serve. */
export async function startPcluster(databaseUrl: string, workers: number, extraArgs: readonly string[] = []): Promise<RunningContender & { child: ChildProcess; metricsPort: number }> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [
    CLI, 'start', path.join(BENCH_ROOT, 'apps/pcluster-app.mjs'), '--workers', String(workers), '--port', String(port),
    '--metrics-port', String(metricsPort), '--database-url', databaseUrl, '--log-format', 'json', '--name', `bench${port}`, ...extraArgs,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${metricsPort}/status`).then((r) => r.json(), () => undefined) as { workers: { state: string }[] } | undefined;
    if (status !== undefined && status.workers.length === workers && status.workers.every((w) => w.state === 'ready')) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('pcluster did not come up for the benchmark');
    await sleep(50);
  }
  return {
    child,
    port,
    metricsPort,
    pids: () => [child.pid!],
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
