import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

/** The parent pid in the text of `/proc/<pid>/stat` (the command name may hold spaces and parentheses: fields start after the last ')'). */
function parentPid(stat: string): number {
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function treeOf(root: number, parents: ReadonlyMap<number, number>): number[] {
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of parents) if (ppid === tree[i]) tree.push(pid);
  return tree;
}

/** The pids of `root` and all its descendants (from /proc), root first. */
export async function processTree(root: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    parents.set(Number(entry), parentPid(await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '')));
  }
  return treeOf(root, parents);
}

/** processTree() without awaiting: for an 'exit' handler. */
export function processTreeSync(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parents.set(Number(entry), parentPid(readFileSync(`/proc/${entry}/stat`, 'utf8')));
    } catch {
      // gone since the listing
    }
  }
  return treeOf(root, parents);
}

/** VmRSS of one process in bytes; 0 when it is gone. */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** The sum of VmRSS over `pids`, in bytes. */
export async function treeRssBytes(pids: readonly number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) total += await rssBytes(pid);
  return total;
}

/** USER_HZ, the unit of the CPU times in /proc/<pid>/stat: 100 on every Linux ABI. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** User and system CPU ticks of one process; with `reaped`, its reaped children's added in; zeros when it is gone. */
export async function cpuTicks(pid: number, { reaped = false } = {}): Promise<{ user: number; system: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (stat === '') return { user: 0, system: 0 };
  // Fields after the command name: state is [0], utime/stime/cutime/cstime are [11]–[14].
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return { user: fields[11]! + (reaped ? fields[13]! : 0), system: fields[12]! + (reaped ? fields[14]! : 0) };
}

/**
 * CPU time (user + system) of one process and of its children it has reaped, in ms; 0 when
 * it is gone. Summed over a live tree, every process's CPU counts exactly once: a live one in
 * its own fields, an exited one in its parent's.
 */
export async function cpuMs(pid: number): Promise<number> {
  const { user, system } = await cpuTicks(pid, { reaped: true });
  return ((user + system) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** CPU time in ms of the process tree of `root`, including its reaped processes. */
export async function treeCpuMs(root: number): Promise<number> {
  let total = 0;
  for (const pid of await processTree(root)) total += await cpuMs(pid);
  return total;
}

/** True while `pid` runs (a zombie waiting for its parent to reap it counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** SIGKILLs every pid in `pids` that is still alive (synchronous: usable in an 'exit' handler). */
export function killAll(pids: Iterable<number>): void {
  for (const pid of pids) {
    // 0 and negative pids mean process groups to kill(2): never meant here.
    if (!(pid > 0)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Resolves once none of `pids` is alive, or false after `timeoutMs`. */
export async function waitForExit(pids: readonly number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
