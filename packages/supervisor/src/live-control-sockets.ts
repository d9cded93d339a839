import { readdirSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { checkPrivateSocket } from './private-socket-dir.js';

/** Whether a primary answers on the socket: `dead` is a socket file nobody listens on (ECONNREFUSED), left by a killed primary. */
export function probeControlSocket(socketPath: string): Promise<'live' | 'dead' | 'absent'> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve('live');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED' ? 'dead' : 'absent'));
  });
}

/** Removes the socket at `socketPath` when nobody listens on it and it is this user's own; resolves with whether it was dead. */
export async function removeIfDead(socketPath: string): Promise<boolean> {
  if ((await probeControlSocket(socketPath)) !== 'dead') return false;
  checkPrivateSocket(socketPath);
  try {
    unlinkSync(socketPath);
  } catch {
    // Removed meanwhile (a primary starting with this name clears it too).
  }
  return true;
}

/**
 * The names of the clusters answering on control sockets in `dir` (`./.pcluster`); sockets nobody listens on, left
 * by a killed primary, are removed rather than counted, so they neither block "the only one running" nor mislead.
 */
export async function liveControlSockets(dir: string): Promise<string[]> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith('.sock'));
  } catch {
    return []; // no .pcluster directory: nothing runs from here
  }
  const dead = await Promise.all(files.map((file) => removeIfDead(path.join(dir, file))));
  return files.filter((_, i) => !dead[i]);
}
