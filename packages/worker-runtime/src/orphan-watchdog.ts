/**
 * Makes a worker die with its primary even when its event loop is blocked (a handler in `while (true) {}`).
 * A worker whose loop turns needs none of this: node:cluster exits it as soon as the IPC channel to the
 * primary closes. That exit runs on the main thread, so the check that the primary is gone runs on a thread
 * of its own. A thread, because it is portable and needs no native code: Linux's PR_SET_PDEATHSIG would take
 * an addon (a compiler at install time) or a wrapper exec'ed in node's place, and node:cluster forks
 * `process.execPath` with no option to change it.
 */
import { SHARE_ENV, Worker } from 'node:worker_threads';

export interface OrphanWatchdogOptions {
  /** The primary's pid: once `process.ppid` differs, the primary is gone and the worker has been re-parented. */
  readonly primaryPid: number;
  /** Names the process in the line printed before the kill. */
  readonly label: string;
  /** Where that line goes: one that outlives the primary (its stderr pipe to the primary is read by nobody). */
  readonly stderrFd: number;
  readonly pollMs: number;
}

// CommonJS for an eval'ed thread, importing nothing of the runtime: the thread costs only Node's own bootstrap.
// process.ppid is a getppid() on every read, in a worker thread too. Seen orphaned at two polls in a row, the
// worker has had a whole poll interval to exit on its own: its event loop is not turning.
const WATCHDOG_SOURCE = `
const o = require('node:worker_threads').workerData;
let orphanedPolls = 0;
setInterval(() => {
  if (process.ppid === o.primaryPid || ++orphanedPolls < 2) return;
  try {
    require('node:fs').writeSync(o.stderrFd, o.label + ': the primary (pid ' + o.primaryPid + ') is gone and the event loop is blocked; killing the process\\n');
  } finally {
    process.kill(process.pid, 'SIGKILL');
  }
}, o.pollMs);
`;

/** Starts the watchdog thread; `failed` hears if the thread itself dies (a blocked worker then outlives its primary). */
export function startOrphanWatchdog(options: OrphanWatchdogOptions, failed: (error: unknown) => void): Worker {
  const thread = new Worker(WATCHDOG_SOURCE, {
    eval: true,
    workerData: options,
    // Not the worker's own node flags (--import tsx, a loader): the thread runs only the source above.
    execArgv: [],
    env: SHARE_ENV,
    // The thread's floor is Node's own bootstrap (~7.5 MB private on Node 20); tighter heap limits save ~1 MB RSS
    // more (a 4 MB old generation fails at start).
    resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 },
  });
  thread.on('error', failed);
  // The thread never keeps a worker alive: a worker that finishes on its own exits as before.
  thread.unref();
  return thread;
}
