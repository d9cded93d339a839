import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';
import { redactSecrets } from './redact.js';

export type Logger = PinoLogger;

export interface LoggerOptions {
  readonly format: 'pretty' | 'json';
  readonly base: Record<string, unknown>;
  readonly level?: string;
  /** Where the lines go (a log file); default stdout. */
  readonly destination?: DestinationStream;
}

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

/** pino, one line per event: JSON for machines, pretty on a terminal; passwords redacted everywhere. */
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
  const { destination } = options;
  if (options.format === 'pretty') {
    // Colours are for a terminal, not for a log file.
    const target = destination === undefined ? { colorize: true } : { colorize: false, destination };
    return pino(settings, pretty({ ...target, sync: true, ignore: 'hostname', translateTime: 'HH:MM:ss.l' }));
  }
  return pino(settings, destination ?? pino.destination({ sync: true }));
}
