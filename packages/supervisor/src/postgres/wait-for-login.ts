import pg from 'pg';
import { PostgresServerError } from './postgres-server-error.js';

export interface LoginTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export interface WaitForLoginOptions {
  readonly timeoutMs: number;
  /** Settles when the postmaster exits: no point polling after that. */
  readonly exited: Promise<unknown>;
  /** The server output that explains a failure, as one line. */
  readonly explain: () => string;
}

const POLL_INTERVAL_MS = 100;
// 28P01 invalid_password, 28000 invalid_authorization_specification (no such role): retrying will not help.
const REFUSED_LOGIN = new Set(['28P01', '28000']);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls until the server accepts a password login and resolves with that connected client;
 * "connection refused" and "the database system is starting up" are retried until the deadline.
 */
export async function waitForLogin(target: LoginTarget, options: WaitForLoginOptions): Promise<pg.Client> {
  const deadline = Date.now() + options.timeoutMs;
  let hasExited = false;
  void options.exited.then(() => (hasExited = true));
  for (;;) {
    // ssl: false so a PGSSLMODE in the environment cannot break the readiness check.
    const client = new pg.Client({ ...target, ssl: false, connectionTimeoutMillis: 2_000, application_name: 'pcluster-postgres-harness' });
    client.on('error', () => {});
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => {});
      const { code, message } = error as { code?: string; message: string };
      const where = `PostgreSQL on ${target.host}:${target.port}`;
      if (code !== undefined && REFUSED_LOGIN.has(code)) {
        throw new PostgresServerError(
          'PCLUSTER_PG_LOGIN_REFUSED',
          `${where} refused user "${target.user}" (${message}); the cluster was created with another user or password: pass the user/password it was created with, or use a new data directory`,
        );
      }
      if (hasExited) throw new PostgresServerError('PCLUSTER_PG_EXITED', `${where} exited during start-up: ${options.explain()}`);
      if (Date.now() >= deadline) {
        throw new PostgresServerError(
          'PCLUSTER_PG_START_TIMEOUT',
          `${where} did not accept a login within ${options.timeoutMs} ms (last error: ${message}); server log: ${options.explain()}`,
        );
      }
    }
    await Promise.race([sleep(POLL_INTERVAL_MS), options.exited]);
  }
}
