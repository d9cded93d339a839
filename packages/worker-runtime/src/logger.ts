import { pino, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';
import { redactSecrets } from './redact.js';

export type Logger = PinoLogger;

/** Where log lines go: every write is one whole line, pino's own or a worker's record passed through. */
export interface LogStream {
  write(line: string): unknown;
}

export interface LoggerOptions {
  readonly stream: LogStream;
  /** Fields on every line; null for none (not even pino's pid and hostname). */
  readonly base: Record<string, unknown> | null;
  readonly level?: string;
}

/**
 * File descriptor of the pipe a worker writes its pcluster log records to (stdio index 4, after the IPC channel):
 * apart from its stdout and stderr, so the primary passes them on as they are and wraps only the app's own output.
 */
export const WORKER_LOG_FD = 4;
/**
 * The primary's own stderr, left open in each worker (stdio index 5): with the primary gone, nobody reads the
 * worker's stdout and stderr pipes any more, and a worker's last word goes here instead.
 */
export const PRIMARY_STDERR_FD = 5;

/** pino's error serializer; it tags the error to detect cycles, which throws on a frozen or sealed one. */
function standardFields(error: object): object {
  try {
    return pino.stdSerializers.err(error as Error);
  } catch {
    try {
      const { name, message, stack } = error as Partial<Error>;
      return { ...error, ...(typeof name === 'string' ? { type: name } : {}), message, stack };
    } catch {
      return { message: '[an error that cannot be read: its fields throw]' };
    }
  }
}

/**
 * Serialises an error with every string field scrubbed of connection-string passwords. An `err` or
 * `error` field may hold anything a handler threw: a bare string (or a worker's boot failure as the
 * primary logs it), a frozen error or plain object. Its fields are copied, never written into what was
 * thrown: a throw inside a log call would crash the process.
 */
function serializeError(error: unknown): unknown {
  if (typeof error === 'string') return redactSecrets(error);
  if (typeof error !== 'object' || error === null) return error;
  const serialized: Record<string, unknown> = { ...standardFields(error) };
  for (const [key, value] of Object.entries(serialized)) {
    if (typeof value === 'string') serialized[key] = redactSecrets(value);
  }
  return serialized;
}

/** A line's worker as a prefix, so that lines of several workers read apart on a terminal. */
function withWorker(log: Record<string, unknown>, messageKey: string): string {
  const message = String(log[messageKey] ?? '');
  return log['worker'] === undefined ? message : `[worker ${String(log['worker'])}] ${message}`;
}

/**
 * Lines on `destination` (stdout by default; a log file's stream, which it reopens in place): JSON as written, or
 * rendered by pino-pretty (in colour only on a descriptor, never into a file).
 */
export function createLogStream(format: 'pretty' | 'json', destination: number | LogStream = 1): LogStream {
  if (format === 'json') return typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination;
  return pretty({
    colorize: typeof destination === 'number', sync: true, destination: destination as pino.DestinationStream,
    ignore: 'hostname,role,worker,stream', messageFormat: withWorker, translateTime: 'HH:MM:ss.l',
  });
}

/** pino, one line per event; passwords redacted everywhere. */
export function createLogger(options: LoggerOptions): Logger {
  const settings = {
    level: options.level ?? process.env['PCLUSTER_LOG_LEVEL'] ?? 'info',
    base: options.base,
    serializers: { err: serializeError, error: serializeError },
    redact: { paths: ['password', '*.password', 'connectionString', '*.connectionString', 'databaseUrl', '*.databaseUrl'], censor: '***' },
    hooks: {
      logMethod(this: PinoLogger, args: Parameters<PinoLogger['info']>, method: (...a: unknown[]) => void) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactSecrets(arg) : arg)));
      },
    },
  };
  return pino(settings, options.stream as pino.DestinationStream);
}
