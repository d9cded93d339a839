import { spawn } from 'node:child_process';
import { freePort } from 'pcluster/postgres';
import { appPath, childContender, CLI, pclusterStatus, removeControlSocketOnExit, sleep, type StatusWorker } from './contender.js';
import { track } from './cleanup.js';
import { PrivatePm2 } from './private-pm2.js';
import { killAll, processTree, rssBytes, treeRssBytes } from './process-tree.js';

/** What it costs to run the supervisor itself, idle: start-up, a rolling reload, memory. */
export interface SupervisorTimings {
  readonly workers: number;
  /** From the start command to every worker ready (pcluster: connected and listening; PM2: every instance sent 'ready' after listen). */
  readonly startMs: number;
  /** PM2 only: launching its daemon (`pm2 ping`), before `pm2 start` (pcluster's start includes its primary's boot). */
  readonly daemonLaunchMs?: number;
  /** PM2 only: one CLI round trip to a running daemon (`pm2 ping`), included in its start and reload times. */
  readonly cliRoundTripMs?: number;
  /** From the reload request to every worker of the new generation ready (the old ones gone). */
  readonly reloadMs: number;
  /** RSS of the primary (PM2: its daemon) once all workers are ready, and after the reload. */
  readonly primaryRssBytes: number;
  readonly primaryRssAfterReloadBytes: number;
  /** RSS of the whole tree (supervisor + workers) once all workers are ready. */
  readonly treeRssBytes: number;
  readonly notes: string;
}

const POLL_MS = 25;

async function pollUntil(what: string, timeoutMs: number, isDone: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await isDone())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

const allAt = (workers: readonly StatusWorker[] | undefined, count: number, generation: number): boolean =>
  workers !== undefined && workers.length === count && workers.every((w) => w.state === 'ready' && w.generation === generation);

/** `pcluster start --workers N` until /status shows N ready workers, then `kill -HUP` until all N are generation 2. */
export async function timePcluster(databaseUrl: string, workers: number): Promise<SupervisorTimings> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const startedAt = performance.now();
  const child = spawn(process.execPath, [
    CLI, 'start', appPath('pcluster-app.mjs'), '--workers', String(workers), '--port', String(port),
    '--metrics-port', String(metricsPort), '--database-url', databaseUrl, '--log-format', 'json', '--name', `bench-supervisor${port}`,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });
  removeControlSocketOnExit(child, `bench-supervisor${port}`);
  const early = { stop: async () => killAll(await processTree(child.pid!)), pids: () => [child.pid!] };
  let untrack = track(early);
  try {
    await pollUntil(`${workers} ready pcluster workers`, 120_000, async () => allAt((await pclusterStatus(metricsPort))?.workers, workers, 1));
    const startMs = performance.now() - startedAt;
    const contender = await childContender(child, port, `pcluster:bench-supervisor${port}:%`, 40_000);
    untrack();
    untrack = track(contender);
    const primaryRssBytes = await rssBytes(child.pid!);
    const treeRss = await treeRssBytes(await processTree(child.pid!));
    const reloadAt = performance.now();
    child.kill('SIGHUP');
    await pollUntil('the rolling reload', 120_000, async () => allAt((await pclusterStatus(metricsPort))?.workers, workers, 2));
    const reloadMs = performance.now() - reloadAt;
    const primaryRssAfterReloadBytes = await rssBytes(child.pid!);
    await contender.stop();
    return {
      workers, startMs, reloadMs, primaryRssBytes, primaryRssAfterReloadBytes, treeRssBytes: treeRss,
      notes: 'ready = connected to PostgreSQL and listening; reload replaces two workers at a time, make-before-break',
    };
  } catch (error) {
    killAll(await processTree(child.pid!));
    throw error;
  } finally {
    untrack();
  }
}

/** PM2's equivalents through its CLI: `pm2 start` (ecosystem file, -i N, wait_ready) until every instance is online, then `pm2 reload`. */
export async function timePm2(databaseUrl: string, workers: number): Promise<SupervisorTimings> {
  const port = await freePort();
  const launchedAt = performance.now();
  const pm2 = await PrivatePm2.launch();
  const daemonLaunchMs = performance.now() - launchedAt;
  const untrack = track({ stop: () => pm2.kill(), pids: () => pm2.pids() });
  try {
    const pingAt = performance.now();
    await pm2.run(['ping']);
    const cliRoundTripMs = performance.now() - pingAt;
    const startedAt = performance.now();
    await pm2.start({
      name: 'bench-supervisor', script: appPath('pool-worker.mjs'), exec_mode: 'cluster', instances: workers,
      wait_ready: true, env: { PORT: String(port), DATABASE_URL: databaseUrl },
    });
    await pollUntil(`${workers} online PM2 instances`, 120_000, async () => {
      const statuses = await pm2.statuses();
      return statuses.length === workers && statuses.every((status) => status === 'online');
    });
    const startMs = performance.now() - startedAt;
    const primaryRssBytes = await rssBytes(pm2.daemonPid);
    const treeRss = await treeRssBytes(await processTree(pm2.daemonPid));
    const reloadAt = performance.now();
    await pm2.reload('bench-supervisor');
    const reloadMs = performance.now() - reloadAt;
    const primaryRssAfterReloadBytes = await rssBytes(pm2.daemonPid);
    return {
      workers, startMs, daemonLaunchMs, cliRoundTripMs, reloadMs, primaryRssBytes, primaryRssAfterReloadBytes, treeRssBytes: treeRss,
      notes: 'ready = listening (its Pool connects on first use); PM2 reloads 2 instances at a time by default',
    };
  } finally {
    await pm2.kill();
    untrack();
  }
}
