import type net from 'node:net';

/** A raw TCP handle as it arrives over IPC with a `pcluster:connection` message. */
export interface RawConnection {
  close(): void;
}

/**
 * Serves a connection the primary handed over from a worker that died before accepting it (nodejs/node#21746; see
 * the supervisor's unaccepted-connections): through the listening handle's own `onconnection`, exactly as
 * node:cluster's worker side does for a connection it is sent, so the server counts it, wraps it with its own
 * options and a drain waits for it. A server that no longer listens (draining) closes it: the client hears at once.
 */
export function serveHandedConnection(server: net.Server | undefined, connection: RawConnection | undefined): void {
  if (connection === undefined) return;
  const listening = (server as { _handle?: { onconnection?: (status: number, handle: RawConnection) => void } | null } | undefined)?._handle;
  if (typeof listening?.onconnection !== 'function') return connection.close();
  listening.onconnection(0, connection);
}
