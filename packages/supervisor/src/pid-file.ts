import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { UsageError } from './options/index.js';

/** True when `pid` is a running process that this user may signal. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when `pid` runs and is a pcluster primary (its title, or where /proc cannot tell, any live process). */
export function isLivePcluster(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('pcluster');
  } catch {
    return true;
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Refuses (exit 2) a pid file that names another pcluster still running. */
export function refuseLivePidFile(file: string): void {
  const other = readPid(file);
  if (other !== undefined && other !== process.pid && isLivePcluster(other)) {
    throw new UsageError(`--pid ${file}: pcluster pid ${other} is running with this pid file; stop it first, or give another --pid`);
  }
}

/**
 * Writes this process's pid to `file` (--pid), as gunicorn's pidfile: a file naming a live pcluster
 * is refused (exit 2); one left by a dead process is replaced. The write is atomic (temp file + rename).
 */
export function writePidFile(file: string): void {
  refuseLivePidFile(file);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, `${process.pid}\n`, { mode: 0o644 });
    renameSync(temp, file);
  } catch (error) {
    throw new UsageError(`--pid ${file}: cannot write it (${(error as NodeJS.ErrnoException).code ?? String(error)}); give a path in a writable directory`);
  }
}

/** Removes the pid file at a graceful stop, unless another process has written its own pid there since. */
export function removePidFile(file: string): void {
  if (readPid(file) !== process.pid) return;
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}
