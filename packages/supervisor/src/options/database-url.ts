import { parse } from 'pg-connection-string';
import type { Source } from './parse-values.js';
import { UsageError } from './usage-error.js';

const POSTGRES_SCHEME = /^postgres(ql)?:\/\//i;
const ANY_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const EXPECTED = 'use a postgres:// URL, for example postgres://user:password@host:port/db (postgresql:// too; a socket as postgres:///db?host=/var/run/postgresql)';

/**
 * Hides the password of one connection string, even a malformed one: everything between the user's `:` and the
 * last `@` (a password may hold an unencoded `@`, `/` or space), and `password=` in the query or key=value form.
 */
export function redactDatabaseUrl(text: string): string {
  const at = text.lastIndexOf('@');
  const colon = text.indexOf(':', ANY_SCHEME.exec(text)?.[0].length ?? 0);
  const withoutUserinfo = at > 0 && colon >= 0 && colon < at ? `${text.slice(0, colon + 1)}***${text.slice(at)}` : text;
  return withoutUserinfo.replace(/\b(password|passwd|pwd)\s*=\s*('[^']*'|"[^"]*"|[^&\s]+)/gi, '$1=***');
}

/** `--database-url` / `DATABASE_URL`: a postgres:// or postgresql:// URL that node-postgres can read; refused naming the setting, never its password. */
export function parseDatabaseUrl(value: unknown, source: Source): string {
  const text = typeof value === 'string' ? value.trim() : '';
  const shown = typeof value === 'string' ? `"${redactDatabaseUrl(value)}"` : JSON.stringify(value);
  if (!POSTGRES_SCHEME.test(text)) throw new UsageError(`${source}: ${shown} is not a PostgreSQL URL; ${EXPECTED}`);
  let host: string | null;
  try {
    ({ host } = parse(text));
  } catch (error) {
    // pg-connection-string redacts its input from the error; only its message ("Invalid URL") is kept.
    const reason = error instanceof Error ? error.message : 'unreadable';
    throw new UsageError(`${source}: ${shown} is not a valid URL (${reason}); ${EXPECTED}, special characters in the password percent-encoded`);
  }
  if (host !== null && /\s/.test(host)) throw new UsageError(`${source}: ${shown} has a space in its host; ${EXPECTED}`);
  return text;
}
