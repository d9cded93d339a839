import { unlinkSync } from 'node:fs';
import net from 'node:net';
import { isControlRequest, isHeldUntilExit, type ControlRequest, type ControlResponse } from './control-protocol.js';
import { UsageError } from './options/index.js';
import { probeControlSocket } from './live-control-sockets.js';
import { preparePrivateSocketDir } from './private-socket-dir.js';

const MAX_REQUEST_BYTES = 4096;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Refuses to start a second primary with this control socket (UsageError, exit 2): checked before
 * anything is started (an embedded PostgreSQL, workers), and again when the socket is taken.
 */
export async function refuseIfRunning(socketPath: string): Promise<void> {
  preparePrivateSocketDir(socketPath);
  if ((await probeControlSocket(socketPath)) === 'live') {
    throw new UsageError(`another pcluster with this name is running (control socket ${socketPath}); stop it (pcluster stop --control-socket ${socketPath}), or start this one with another --name`);
  }
}

/**
 * Listens on the control socket (mode 0600: only this user may drive the cluster). A live
 * socket means another primary with this name runs: refused. A dead one, left by a killed
 * primary, is removed. The directory must be this user's alone (see private-socket-dir).
 */
export async function listenControlSocket(socketPath: string, handle: (request: ControlRequest) => Promise<ControlResponse>): Promise<net.Server> {
  await refuseIfRunning(socketPath);
  try {
    unlinkSync(socketPath);
  } catch {
    // No stale socket to remove.
  }
  const server = net.createServer((socket) => {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    socket.on('data', function onData(chunk: string) {
      buffer += chunk;
      if (buffer.length > MAX_REQUEST_BYTES) return socket.destroy();
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      // One request per connection: whatever follows the first line is not a second command.
      socket.off('data', onData);
      const request = parseJson(buffer.slice(0, newline));
      const isValid = isControlRequest(request);
      const isHeld = isValid && isHeldUntilExit(request);
      const answer = isValid ? handle(request) : Promise.resolve<ControlResponse>({ ok: false, error: 'unknown control request' });
      void answer
        .catch((error: unknown): ControlResponse => ({ ok: false, error: `control request failed: ${error instanceof Error ? error.message : String(error)}` }))
        .then((response) => {
          const line = `${JSON.stringify(response)}\n`;
          if (!response.ok || !isHeld) return void socket.end(line);
          // Held open, and not keeping this process alive: it closes as the primary's event loop ends, the client's sign
          // that the primary is exiting (see ControlRequest). Not awaited by the server's close (see Primary.run).
          socket.write(line);
          socket.unref();
        });
    });
  });
  // The umask makes the socket 0600 from its creation: no window in which another user could connect.
  const previousUmask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
  } finally {
    process.umask(previousUmask);
  }
  return server;
}
