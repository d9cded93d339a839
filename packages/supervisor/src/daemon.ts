import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { refuseIfRunning } from './control-server.js';
import { refuseLivePidFile } from './pid-file.js';
import type { StartOptions } from './start-options.js';

/** Set for the detached primary only; removed as it starts, so its workers and the app never see it. */
const CHILD_ENV = 'PCLUSTER_DAEMON_CHILD';
const READY = 'pcluster:daemon-ready';
/** How much of a failed start's log the foreground command prints. */
const FAILURE_LINES = 20;

/** True in the primary that `start --daemon` detached (reads and removes the marker). */
export function isDaemonChild(): boolean {
  const isChild = process.env[CHILD_ENV] === '1';
  delete process.env[CHILD_ENV];
  return isChild;
}

/** The detached primary's side: tells the waiting `start --daemon` that every worker is ready, then lets it go. */
export function tellParentReady(): void {
  if (process.send === undefined || !process.connected) return;
  process.send({ type: READY }, () => process.disconnect());
}

function readFrom(file: string, offset: number): string {
  const fd = openSync(file, 'r');
  try {
    const length = Math.max(0, fstatSync(fd).size - offset);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, offset);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * `pcluster start --daemon`, the foreground side (as `gunicorn --daemon` and `pm2 start`): starts the
 * same command again as a detached session leader writing to the log file, and waits. Resolves 0 once
 * every worker is ready; if the primary exits first, prints the end of what it logged and resolves with
 * its exit status.
 */
export async function daemonize(options: StartOptions, startDir: string, argv: readonly string[] = process.argv.slice(1)): Promise<number> {
  const logFile = options.logFile ?? path.join(path.dirname(options.controlSocket), `${options.name}.log`);
  // Refused here too, so that the refusal is not written into the running cluster's own log file.
  if (options.pidFile !== undefined) refuseLivePidFile(options.pidFile);
  // The default log file lives beside the control socket: its directory is made private (and checked) here too.
  await refuseIfRunning(options.controlSocket);
  mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  const offset = fstatSync(fd).size;
  // Its stdout and stderr are the log file too: whatever the primary writes before its logger, or as it dies, is kept.
  const child = spawn(process.execPath, [...process.execArgv, ...argv], {
    detached: true,
    // The directory the command was given in: its relative paths (--chdir's among them) mean the same to the child.
    cwd: startDir,
    stdio: ['ignore', fd, fd, 'ipc'],
    env: { ...process.env, [CHILD_ENV]: '1' },
  });
  closeSync(fd);
  // Ctrl-C while it starts stops the start, not just this command.
  const stopChild = (): boolean => child.kill('SIGTERM');
  process.once('SIGINT', stopChild).once('SIGTERM', stopChild);
  const outcome = await new Promise<{ readonly isReady: boolean; readonly code: number }>((resolve) => {
    child.on('message', (message: unknown) => {
      if ((message as { type?: unknown } | null)?.type === READY) resolve({ isReady: true, code: 0 });
    });
    child.once('exit', (code) => resolve({ isReady: false, code: code ?? 1 }));
    child.once('error', (error) => {
      process.stderr.write(`pcluster: cannot start the background primary: ${error.message}\n`);
      resolve({ isReady: false, code: 1 });
    });
  });
  process.off('SIGINT', stopChild).off('SIGTERM', stopChild);
  if (outcome.isReady) {
    child.disconnect();
    child.unref();
    process.stdout.write(`pcluster: ${options.name} is running in the background (pid ${child.pid}); log ${logFile}; stop it with pcluster stop --name ${options.name}\n`);
    return 0;
  }
  const tail = readFrom(logFile, offset).trimEnd().split('\n').slice(-FAILURE_LINES).join('\n');
  process.stderr.write(`pcluster: ${options.name} did not start (exit ${outcome.code}); the end of ${logFile}:\n${tail}\n`);
  // Stopped before it was ready (exit 0): the start did not happen all the same.
  return outcome.code === 0 ? 1 : outcome.code;
}
