import { existsSync } from 'node:fs';
import path from 'node:path';
import { readEntries } from './cluster-registry.js';
import { findControlSocket, type ControlTarget } from './control-commands.js';
import { followFile, readLastLines } from './log-tail.js';

/**
 * The log file of the cluster `status` would talk to: the one its primary registered (pcluster ls), else,
 * given --name, the only registered cluster of that name in any directory, else the default of
 * `--daemon` beside the control socket (which outlives a primary that died). None found is an error (exit 1), as for status.
 */
export async function findLogFile(target: ControlTarget, cwd: string): Promise<string> {
  const socket = await findControlSocket(target, cwd);
  let entries: ReturnType<typeof readEntries> = [];
  try {
    entries = readEntries();
  } catch {
    // No usable registry: the default path below still works.
  }
  const named = target.name === undefined || target.controlSocket !== undefined ? [] : entries.filter(({ entry }) => entry.name === target.name);
  const registered = entries.find(({ entry }) => entry.controlSocket === socket) ?? (named.length === 1 ? named[0] : undefined);
  if (registered !== undefined) {
    if (registered.entry.logFile !== null) return registered.entry.logFile;
    throw new Error(`${registered.entry.name} logs to its terminal, not to a file; start it with --daemon or --log-file <path> for pcluster logs`);
  }
  const fallback = path.join(path.dirname(socket), `${path.basename(socket, '.sock')}.log`);
  if (existsSync(fallback)) return fallback;
  throw new Error(`no log file for ${socket}: is that cluster running with --daemon or --log-file? (pcluster ls lists the running ones)`);
}

/** Runs `pcluster logs [-f] [--lines N]`: the last lines of the cluster's log file, then, with -f, new lines as they come until Ctrl-C. */
export async function runLogs(target: ControlTarget, lines: number, follow: boolean): Promise<number> {
  const file = await findLogFile(target, process.cwd());
  const { text, end } = readLastLines(file, lines);
  process.stdout.write(text);
  if (!follow) return 0;
  const stop = new AbortController();
  const abort = (): void => stop.abort();
  process.once('SIGINT', abort).once('SIGTERM', abort);
  await followFile(file, end, (chunk) => process.stdout.write(chunk), stop.signal);
  return 0;
}
