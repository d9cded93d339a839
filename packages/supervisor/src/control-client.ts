import net from 'node:net';
import type { ControlRequest, ControlResponse } from './control-protocol.js';
import { checkPrivateSocket } from './private-socket-dir.js';

/**
 * Sends one request to a running primary and returns its answer once the primary closes the connection (for
 * `stop --wait`, when it exits); a one-line error when none runs there, and a refusal (UsageError) when the socket or
 * its directory is not this user's own. `timeoutMs` 0: no deadline.
 */
export function sendControlRequest(socketPath: string, request: ControlRequest, timeoutMs = 30_000): Promise<ControlResponse> {
  checkPrivateSocket(socketPath);
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let buffer = '';
    let isConnected = false;
    const answer = (): ControlResponse | undefined => {
      try {
        return JSON.parse(buffer) as ControlResponse;
      } catch {
        return undefined;
      }
    };
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from ${socketPath} within ${timeoutMs / 1000}s`)));
    socket.once('connect', () => {
      isConnected = true;
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.on('data', (chunk: string) => (buffer += chunk));
    socket.once('end', () => {
      const response = answer();
      if (response !== undefined) resolve(response);
      else reject(new Error(buffer === '' ? `the pcluster at ${socketPath} closed the connection without an answer (did it exit?)` : `unreadable answer from ${socketPath}`));
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      // An answer already read, then a reset as the primary exits: the answer stands.
      const response = isConnected ? answer() : undefined;
      if (response !== undefined) return resolve(response);
      const reason = error.code === 'ENOENT' || error.code === 'ECONNREFUSED' ? 'no pcluster is running there' : error.message;
      reject(new Error(`cannot reach the control socket ${socketPath}: ${reason}; give --name or --control-socket of a running cluster`));
    });
  });
}
