/** How the worker's connection is described and set up: failure lines, what counts as unreachable, session options. */
import type pg from 'pg';

/** How a connection problem reads in one line: where, as whom, and why — never the password. */
export function describeConnectFailure(client: pg.Client, error: Error): string {
  return `cannot connect to PostgreSQL at ${client.host}:${client.port}, database "${client.database}", user "${client.user}": ${error.message}`;
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);
/** SQLSTATEs of a server that is there but cannot take us yet: starting up, shutting down, full. */
const NOT_YET_SQLSTATES = new Set(['57P03', '57P01', '53300']);

/** True when the server could not be reached (or not yet); false for a refused login, a missing database, TLS refusal. */
export function isUnreachable(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  if (code !== undefined && (UNREACHABLE_CODES.has(code) || NOT_YET_SQLSTATES.has(code))) return true;
  return typeof message === 'string' && /timeout expired|Connection terminated unexpectedly/.test(message);
}

/** Session settings as a startup-packet `options` string, so every (re)connect applies them without a round trip. */
export function sessionOptions(session: Readonly<Record<string, string>>): string | undefined {
  const entries = Object.entries(session);
  if (entries.length === 0) return undefined;
  return entries.map(([key, value]) => `-c ${key}=${value.replace(/\\/g, '\\\\').replace(/ /g, '\\ ')}`).join(' ');
}
