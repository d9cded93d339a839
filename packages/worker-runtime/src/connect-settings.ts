/** How the worker's connection is set up and described: its client config, failure lines, what counts as unreachable, session options. */
import type pg from 'pg';
import { keepaliveSettings } from './keepalive-settings.js';
import type { DatabaseSettings } from './protocol.js';

/** One connect attempt waits no longer than this for the server. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * A worker connection's pg.Client config: where the app points, when it does (SPEC §2.1), and always pcluster's own
 * name, session, keepalives on both ends (SPEC §6; a --session setting of the same name wins) and pipelining.
 */
export function clientConfig(database: DatabaseSettings, appTarget: pg.ClientConfig, keepaliveTimeoutMs: number, pooler: 'none' | 'transaction' = 'none'): pg.ClientConfig {
  const keepalive = keepaliveSettings(keepaliveTimeoutMs);
  // PgBouncer refuses a startup packet with `options` (and --session is refused under --pooler): the pooler's own
  // server connections carry the server-side keepalives then (its tcp_keepalive settings), the socket ours.
  return {
    connectionString: database.connectionString,
    ...appTarget,
    application_name: database.applicationName,
    options: pooler === 'transaction' ? undefined : sessionOptions({ ...keepalive.serverSession, ...database.session }),
    keepAlive: true,
    keepAliveInitialDelayMillis: keepalive.clientIdleMs,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    pipeline: true,
  };
}

/** The target and credentials of an app's Pool/Client config; every other setting of its stays the app's. */
export function appTarget(config: pg.ClientConfig): pg.ClientConfig {
  const { connectionString, host, port, database, user, password, ssl } = config;
  return Object.fromEntries(Object.entries({ connectionString, host, port, database, user, password, ssl }).filter(([, value]) => value !== undefined));
}

/** Where the worker's connection settings came from: pcluster's own (flag, environment, embedded), the app's first Pool/Client config, or neither. */
export type SettingsOrigin = 'pcluster' | 'app' | 'defaults';

const quoted = (value: string | undefined): string => (value === undefined || value === '' ? '(none)' : `"${value}"`);

/**
 * How a connection problem reads in one line: where, as whom, and why — never the password. Told
 * nothing about the database, it says so and how to tell it: node-postgres' defaults are rarely what was meant.
 */
export function describeConnectFailure(client: pg.Client, error: Error, origin: SettingsOrigin = 'pcluster'): string {
  const where = `PostgreSQL at ${client.host}:${client.port}, database ${quoted(client.database)}, user ${quoted(client.user)}`;
  if (origin !== 'defaults') return `cannot connect to ${where}: ${error.message}`;
  return `no database configured (no --database-url, DATABASE_URL, PGHOST/PGPORT/PGDATABASE/PGUSER or --embedded-postgres, nor in the app's pg Pool/Client config), ` +
    `so node-postgres' defaults were tried: cannot connect to ${where}: ${error.message}; ` +
    'give --database-url (for example postgres://user@host:5432/db), set DATABASE_URL or the PG* variables, or pass --embedded-postgres for a local server';
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);
/** SQLSTATEs of a server that is there but cannot take us yet: starting up, shutting down. */
const NOT_YET_SQLSTATES = new Set(['57P03', '57P01']);

/** True when the server refused the login for a connection limit (a role's or database's CONNECTION LIMIT, max_connections): SQLSTATE 53300. */
export function isRefusedForLimit(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '53300';
}

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
