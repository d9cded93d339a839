import { pino, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';
import { redactSecrets } from './redact.js';

export type Logger = PinoLogger;

export interface LoggerOptions {
  readonly format: 'pretty' | 'json';
  readonly base: Record<string, unknown>;
  readonly level?: string;
}

/**
 * Serialises an error with every string field scrubbed of connection-string passwords. An `err` or
 * `error` field may also hold a bare message (a worker's boot failure as the primary logs it): pino
 * hands that back unchanged, and writing into it by index would throw inside the log call.
 */
function serializeError(error: unknown): unknown {
  if (typeof error === 'string') return redactSecrets(error);
  if (typeof error !== 'object' || error === null) return error;
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
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
  if (options.format === 'pretty') {
    return pino(settings, pretty({ colorize: true, sync: true, ignore: 'hostname', translateTime: 'HH:MM:ss.l' }));
  }
  return pino(settings, pino.destination({ sync: true }));
}
