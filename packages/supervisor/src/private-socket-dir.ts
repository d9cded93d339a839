import { lstatSync, mkdirSync, type Stats } from 'node:fs';
import path from 'node:path';
import { UsageError } from './options/index.js';

const FIX_SOCKET_DIR = 'remove it (or chmod 700 it if it is yours), or give --control-socket in a directory only you can write';

/**
 * Whoever can write the control socket's directory can swap the socket, and `pcluster stop`
 * would then talk to an impostor: the directory must be a real directory (not a symlink),
 * owned by this user, with no group or other bits. Both the primary and the control
 * commands check it with lstat before they trust the socket.
 */
function refuseUnlessPrivate(dir: string, stats: Stats, what = 'control socket directory', fix = FIX_SOCKET_DIR): void {
  if (stats.isSymbolicLink()) throw new UsageError(`${what} ${dir} is a symlink; ${fix}`);
  if (!stats.isDirectory()) throw new UsageError(`${what} ${dir} is not a directory; ${fix}`);
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) throw new UsageError(`${what} ${dir} belongs to uid ${stats.uid}, not to you (uid ${uid}); ${fix}`);
  const mode = stats.mode & 0o777;
  if ((mode & 0o077) !== 0) throw new UsageError(`${what} ${dir} is mode ${mode.toString(8)}, open to other users; ${fix}`);
}
function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The primary's side: creates the socket's directory mode 0700 when missing, and refuses one others could write. */
export function preparePrivateSocketDir(socketPath: string): void {
  preparePrivateDir(path.dirname(socketPath));
}

/** Creates `dir` mode 0700 when missing, and refuses (UsageError naming `what` and the fix) a symlink, or one others could write. */
export function preparePrivateDir(dir: string, what?: string, fix?: string): void {
  if (lstatOrUndefined(dir) === undefined) mkdirSync(dir, { recursive: true, mode: 0o700 });
  refuseUnlessPrivate(dir, lstatSync(dir), what, fix);
}

/**
 * The control command's side: the directory is private and the socket in it is a socket of
 * this user's; a missing socket is left for the connect to report as "no pcluster is running".
 */
export function checkPrivateSocket(socketPath: string): void {
  const dir = path.dirname(socketPath);
  const dirStats = lstatOrUndefined(dir);
  if (dirStats === undefined) return;
  refuseUnlessPrivate(dir, dirStats);
  const stats = lstatOrUndefined(socketPath);
  if (stats === undefined) return;
  const uid = process.getuid?.();
  if (!stats.isSocket()) throw new UsageError(`control socket ${socketPath} is not a socket; remove it, or give --control-socket of a running cluster`);
  if (uid !== undefined && stats.uid !== uid) throw new UsageError(`control socket ${socketPath} belongs to uid ${stats.uid}, not to you (uid ${uid}); remove it, or give --control-socket of a running cluster`);
}
