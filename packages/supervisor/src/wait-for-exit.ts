import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * True once `pid` is gone: no such process, one of another user's (the pid was reused), or a zombie its parent has not
 * reaped yet (Linux's /proc tells; elsewhere a zombie reads as alive until it is reaped).
 */
export function hasExited(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) [ZX]/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Waits until `pid` has exited, at most `limitMs`: past that the pid is taken to name another process (a primary in
 * another PID namespace, whose number means nothing here). Resolves true when it saw the exit.
 */
export async function waitForExit(pid: number, limitMs: number, pollMs = 20): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (!hasExited(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(pollMs);
  }
  return true;
}
