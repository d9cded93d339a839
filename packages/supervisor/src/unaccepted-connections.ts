import type { ChildProcess, SendHandle } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import type { PrimaryMessage } from '@pcluster/worker-runtime/protocol';

/** An accepted TCP connection as node:cluster's round-robin holds it: a raw handle the primary must close. */
export interface RawConnection {
  close(): void;
}

/** node:cluster's primary → worker message that hands over a connection: `{ cmd: 'NODE_CLUSTER', act: 'newconn', seq }`. */
function isNewConnection(message: unknown): message is { seq: number } {
  const m = message as { cmd?: unknown; act?: unknown; seq?: unknown } | null;
  return typeof m === 'object' && m !== null && m.cmd === 'NODE_CLUSTER' && m.act === 'newconn' && typeof m.seq === 'number';
}

/** The worker's answer to it: `{ cmd: 'NODE_CLUSTER', ack: seq, accepted }`. */
function ackedSeq(message: unknown): number | undefined {
  const m = message as { cmd?: unknown; ack?: unknown } | null;
  return typeof m === 'object' && m !== null && m.cmd === 'NODE_CLUSTER' && typeof m.ack === 'number' ? m.ack : undefined;
}

/**
 * node:cluster's round-robin sends each accepted connection to a worker and closes its own copy only when the
 * worker acknowledges it. A worker that dies first leaves the connection open in the primary and served by
 * no one: the client hangs until its own timeout and the primary keeps a CLOSE-WAIT socket
 * (nodejs/node#21746, never fixed upstream). This watches a worker's channel for those hand-overs and their
 * acknowledgements (node:cluster's internal message shapes, kept to this module) and, once the worker has exited
 * and its channel has been read to the end, gives `onStranded` what it never acknowledged.
 * A worker acknowledges before it reads a byte, so a stranded connection is untouched and can go to another.
 */
export function watchUnacceptedConnections(child: ChildProcess, onStranded: (connections: RawConnection[]) => void): void {
  const pending = new Map<number, RawConnection>();
  const send = child.send;
  child.send = function sendTracked(this: ChildProcess, message: unknown, ...rest: unknown[]): boolean {
    const handle = rest[0] as RawConnection | undefined;
    if (isNewConnection(message) && typeof handle?.close === 'function') pending.set(message.seq, handle);
    return Reflect.apply(send, this, [message, ...rest]) as boolean;
  } as ChildProcess['send'];
  (child as EventEmitter).on('internalMessage', (message: unknown) => {
    const seq = ackedSeq(message);
    if (seq !== undefined) pending.delete(seq);
  });
  // 'close', not 'disconnect': it comes once the process has exited and its channel has been read to the end, while
  // 'disconnect' never comes for a worker that died with a handle send unacknowledged (child_process postpones it).
  child.once('close', () => {
    if (pending.size === 0) return;
    const stranded = [...pending.values()];
    pending.clear();
    onStranded(stranded);
  });
}

/**
 * Gives stranded connections to a live worker (its runtime serves them as if node:cluster had), or closes them
 * when none is there, so the client hears at once instead of hanging. The primary's copy is closed once sent.
 */
export function handOverConnections(connections: readonly RawConnection[], to: ChildProcess | undefined): void {
  for (const connection of connections) {
    if (to === undefined || !to.connected) {
      connection.close();
      continue;
    }
    const message: PrimaryMessage = { type: 'pcluster:connection' };
    to.send(message, connection as unknown as SendHandle, () => connection.close());
  }
}
