import path from 'node:path';
import { sendControlRequest } from './control-client.js';
import { isHeldUntilExit, isWaiting, type ControlRequest } from './control-protocol.js';
import { liveControlSockets, removeIfDead } from './live-control-sockets.js';
import { UsageError } from './options/index.js';
import { renderStatusTable } from './status-table.js';
import { waitForExit } from './wait-for-exit.js';

/**
 * How long `stop --wait` waits for the primary's pid after its connection closed: the connection closes as the primary's
 * event loop ends, and the process is gone a moment later. Only a pid that names another process outlasts this.
 */
const EXIT_TAIL_MS = 10_000;

export interface ControlTarget {
  readonly name?: string;
  readonly controlSocket?: string;
}

/** The control socket to talk to: --control-socket, else --name, else the only live one under ./.pcluster (dead ones are removed). */
export async function findControlSocket(target: ControlTarget, cwd: string): Promise<string> {
  if (target.controlSocket !== undefined) return path.resolve(cwd, target.controlSocket);
  const dir = path.join(cwd, '.pcluster');
  if (target.name !== undefined) return path.join(dir, `${target.name}.sock`);
  const sockets = await liveControlSockets(dir);
  if (sockets.length === 1) return path.join(dir, sockets[0]!);
  const found = sockets.length === 0 ? 'none is' : `${sockets.length} are (${sockets.map((s) => s.replace(/\.sock$/, '')).join(', ')})`;
  throw new UsageError(`which cluster? ${found} running from ${cwd}; give --name <name> or --control-socket <path>`);
}

/**
 * Runs `pcluster status|reload|scale|stop` against a running primary; returns the exit status. With --wait, a reload
 * returns once it is done (1 and the app's error when the new generation cannot boot), a stop once the primary has exited.
 */
export async function runControlCommand(request: ControlRequest, target: ControlTarget, asJson: boolean): Promise<number> {
  const socketPath = await findControlSocket(target, process.cwd());
  // A socket named by --name or --control-socket that nobody listens on is a killed primary's leftover: gone after this answer.
  const response = await sendControlRequest(socketPath, request, isWaiting(request) ? 0 : undefined).catch(async (error: unknown) => {
    if (!(error instanceof UsageError)) await removeIfDead(socketPath).catch(() => false);
    throw error;
  });
  if (!response.ok) {
    process.stderr.write(`pcluster: ${response.error}\n`);
    return 1;
  }
  if (response.status !== undefined) {
    process.stdout.write(asJson ? `${JSON.stringify(response.status, null, 2)}\n` : `${renderStatusTable(response.status)}\n`);
  } else if (isHeldUntilExit(request)) {
    if (response.pid !== undefined) await waitForExit(response.pid, EXIT_TAIL_MS);
    process.stdout.write('stopped\n');
  } else if (response.message !== undefined) {
    process.stdout.write(`${response.message}\n`);
  }
  return 0;
}
