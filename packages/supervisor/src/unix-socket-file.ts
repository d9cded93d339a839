import cluster from 'node:cluster';
import { chmodSync, chownSync, lstatSync, rmSync } from 'node:fs';
import net from 'node:net';

/** Who may connect to a --bind socket: its owner (the primary) and its group (a reverse proxy put in that group). */
export const SOCKET_MODE = 0o660;

/** Whether something accepts connections on the socket at `socketPath`. */
function isListening(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/**
 * Removes a socket file at `socketPath` that nobody listens on (left by a primary that was killed), as gunicorn does.
 * A live socket or another kind of file stays: the workers' listen then fails with EADDRINUSE, naming --bind.
 */
export async function removeStaleSocket(socketPath: string): Promise<void> {
  const stat = lstatSync(socketPath, { throwIfNoEntry: false });
  if (stat?.isSocket() !== true) return;
  if (!(await isListening(socketPath))) rmSync(socketPath, { force: true });
}

/** Gives the socket its mode (and the workers' group, with --group or --user), once node:cluster has created it. */
export function restrictSocket(socketPath: string, gid: number | undefined): void {
  chmodSync(socketPath, SOCKET_MODE);
  if (gid !== undefined) chownSync(socketPath, -1, gid);
}

/** Removes the socket file at stop, if node:cluster left it there. */
export function removeSocket(socketPath: string): void {
  if (lstatSync(socketPath, { throwIfNoEntry: false })?.isSocket() === true) rmSync(socketPath, { force: true });
}

/**
 * --bind unix:<path> for the primary's run: a stale file removed first, the socket given its mode and group once
 * node:cluster creates it; resolves with what removes it at stop (only a socket this cluster created).
 */
export async function ownBindSocket(socketPath: string, gid: number | undefined): Promise<() => void> {
  let isOurs = false;
  await removeStaleSocket(socketPath);
  cluster.on('listening', (_worker, address) => {
    if (address.addressType !== -1) return;
    restrictSocket(socketPath, gid);
    isOurs = true;
  });
  return () => {
    if (isOurs) removeSocket(socketPath);
  };
}
