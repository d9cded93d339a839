import type { StatusReport } from './status-report.js';

/**
 * What `pcluster status|reload|scale|stop` send over the control socket (one JSON line each way). `wait`: a reload is
 * answered once it is done or has failed; a stop is answered at once (with the primary's pid) and its connection stays
 * open until the primary's event loop has ended, so the client's end of file says it is exiting.
 */
export type ControlRequest =
  | { readonly command: 'status' }
  | { readonly command: 'reload'; readonly wait?: boolean }
  | { readonly command: 'scale'; readonly workers: number }
  | { readonly command: 'stop'; readonly wait?: boolean };

export type ControlResponse =
  /** `pid`: the primary's, in answer to a stop (`stop --wait` waits for it to be gone). */
  | { readonly ok: true; readonly status?: StatusReport; readonly message?: string; readonly pid?: number }
  | { readonly ok: false; readonly error: string };

const COMMANDS = new Set(['status', 'reload', 'scale', 'stop']);

/** True when `value` is a well-formed control request. */
export function isControlRequest(value: unknown): value is ControlRequest {
  if (typeof value !== 'object' || value === null) return false;
  const { command, workers, wait } = value as { command?: unknown; workers?: unknown; wait?: unknown };
  if (typeof command !== 'string' || !COMMANDS.has(command)) return false;
  if (wait !== undefined && (typeof wait !== 'boolean' || (command !== 'reload' && command !== 'stop'))) return false;
  return command !== 'scale' || (typeof workers === 'number' && Number.isInteger(workers));
}

/** True for a request whose connection the primary keeps open until it exits (`stop --wait`). */
export function isHeldUntilExit(request: ControlRequest): boolean {
  return request.command === 'stop' && request.wait === true;
}

/** True for a request whose answer may take as long as a reload or a stop does: the client sets no deadline. */
export function isWaiting(request: ControlRequest): boolean {
  return 'wait' in request && request.wait === true;
}

/** The command a signal to the primary stands for, as in gunicorn: TERM and INT stop, HUP reloads, TTIN and TTOU add or remove a worker. */
export function commandForSignal(signal: NodeJS.Signals, workers: number): Exclude<ControlRequest, { command: 'status' }> {
  switch (signal) {
    case 'SIGHUP':
      return { command: 'reload' };
    case 'SIGTTIN':
      return { command: 'scale', workers: workers + 1 };
    case 'SIGTTOU':
      return { command: 'scale', workers: workers - 1 };
    default:
      return { command: 'stop' };
  }
}
