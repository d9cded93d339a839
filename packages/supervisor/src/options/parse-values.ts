import bytes from 'bytes';
import ms from 'ms';
import { UsageError } from './usage-error.js';

/** Where a value came from, as a user would name it: `--workers` or `workers (in pcluster.json)`. */
export type Source = string;

const show = (value: unknown): string => (typeof value === 'string' ? `"${value}"` : JSON.stringify(value));

/** The longest wait a Node timer can hold (2^31-1 ms, about 24.8 days): a longer one fires at once. */
const MAX_DURATION_MS = 2 ** 31 - 1;
const BARE_NUMBER = /^(\d+(\.\d*)?|\.\d+)$/;

/**
 * A duration in milliseconds: `250ms`, `30s`, `5m`, `6h` (what the `ms` package reads); a bare number, written or
 * a config file's number, means seconds (as in gunicorn). At least `minMs`, at most what a timer can wait.
 */
export function parseDuration(value: unknown, source: Source, minMs = 0): number {
  const text = typeof value === 'string' ? value.trim() : undefined;
  const parsed =
    typeof value === 'number' ? value * 1_000
    : text === undefined || text === '' ? NaN
    : BARE_NUMBER.test(text) ? Number(text) * 1_000
    : ms(text as ms.StringValue);
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
    throw new UsageError(`${source}: ${show(value)} is not a duration; use seconds (30) or a number with ms, s, m or h (250ms, 30s, 5m, 6h)`);
  }
  const durationMs = Math.round(parsed);
  if (durationMs > MAX_DURATION_MS) throw new UsageError(`${source}: ${show(value)} is too long; use at most 24d`);
  if (durationMs < minMs) {
    const meaning = typeof value === 'number' || BARE_NUMBER.test(text ?? '') ? ` (a bare number is seconds: ${durationMs}ms)` : '';
    const least = minMs <= 1 ? 'more than 0' : `at least ${ms(minMs)}`;
    throw new UsageError(`${source}: ${show(value)} is too short${meaning}; use ${least}`);
  }
  return durationMs;
}

/** A size (`64KB`, `512MB`, `1GB`; a bare number is bytes) in bytes, > 0. */
export function parseSize(value: unknown, source: Source): number {
  const parsed = typeof value === 'number' ? value : typeof value === 'string' ? bytes.parse(value.trim()) : NaN;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed <= 0) {
    throw new UsageError(`${source}: ${show(value)} is not a size; use a number with KB, MB or GB (e.g. 512MB)`);
  }
  return parsed;
}

/** A whole number >= `min`. */
export function parseInteger(value: unknown, source: Source, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const parsed = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`${source}: ${show(value)} is not valid; expected a whole number ${range}`);
  }
  return parsed;
}

/** `--workers`: a whole number >= 1 or `auto` (= available parallelism). */
export function parseWorkers(value: unknown, source: Source, availableParallelism: number): number {
  if (value === 'auto') return Math.max(1, availableParallelism);
  const parsed = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new UsageError(`${source}: ${show(value)} is not valid; expected a whole number >= 1 or "auto"`);
  }
  return parsed;
}

/** One of a fixed set of words. */
export function parseChoice<T extends string>(value: unknown, source: Source, choices: readonly T[]): T {
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${source}: ${show(value)} is not valid; expected one of ${choices.join(', ')}`);
}

/** A non-empty string. */
export function parseString(value: unknown, source: Source): string {
  if (typeof value === 'string' && value.trim() !== '') return value;
  throw new UsageError(`${source}: ${show(value)} is not valid; expected a non-empty string`);
}

/** A list of strings (a repeatable flag, or an array in a config file). */
export function parseStringList(value: unknown, source: Source): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => parseString(item, source));
}

const SESSION_KEY = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** `--session key=value` (repeatable), or a config-file object `{ "statement_timeout": "5s" }`. */
export function parseSession(value: unknown, source: Source): Record<string, string> {
  const pairs: [string, unknown][] =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? Object.entries(value)
      : parseStringList(value, source).map((item) => {
          const at = item.indexOf('=');
          if (at <= 0) throw new UsageError(`${source}: "${item}" is not valid; expected key=value (e.g. statement_timeout=5s)`);
          return [item.slice(0, at), item.slice(at + 1)];
        });
  const session: Record<string, string> = {};
  for (const [key, raw] of pairs) {
    const setting = typeof raw === 'number' ? String(raw) : raw;
    if (!SESSION_KEY.test(key) || typeof setting !== 'string' || setting === '') {
      throw new UsageError(`${source}: "${key}=${String(raw)}" is not valid; expected key=value with a setting name and a non-empty value`);
    }
    session[key] = setting;
  }
  return session;
}

/** `--bind unix:<path>`: the socket path (relative paths are the caller's to resolve). */
export function parseBind(value: unknown, source: Source): string {
  const socketPath = typeof value === 'string' && value.startsWith('unix:') ? value.slice('unix:'.length) : '';
  if (socketPath.trim() === '') throw new UsageError(`${source}: ${show(value)} is not valid; expected unix:<path> (e.g. unix:/run/shop.sock), or use --host and --port for TCP`);
  return socketPath;
}

/** A switch: a flag (true), or a config file's `true`/`false`. */
export function parseBoolean(value: unknown, source: Source): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new UsageError(`${source}: ${show(value)} is not true or false; write true or false`);
}
