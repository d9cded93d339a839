import type { StatusReport } from './status-report.js';

/** What `pcluster status|reload|scale|stop` send over the control socket (one JSON line each way). */
export type ControlRequest =
  | { readonly command: 'status' }
  | { readonly command: 'reload' }
  | { readonly command: 'scale'; readonly workers: number }
  | { readonly command: 'stop' };

export type ControlResponse =
  | { readonly ok: true; readonly status?: StatusReport; readonly message?: string }
  | { readonly ok: false; readonly error: string };

const COMMANDS = new Set(['status', 'reload', 'scale', 'stop']);

/** True when `value` is a well-formed control request. */
export function isControlRequest(value: unknown): value is ControlRequest {
  if (typeof value !== 'object' || value === null) return false;
  const { command, workers } = value as { command?: unknown; workers?: unknown };
  if (typeof command !== 'string' || !COMMANDS.has(command)) return false;
  return command !== 'scale' || (typeof workers === 'number' && Number.isInteger(workers));
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
