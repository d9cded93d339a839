/** Errors pcluster raises inside a worker, and how it reads node-postgres' errors; callers match on `code`, never on the message. */
export class PclusterError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The database could not be reached within the lease timeout. Handlers may catch it
 * (to serve a cached page); uncaught, the worker answers 503 with Retry-After.
 */
export class DatabaseUnavailableError extends PclusterError {
  readonly statusCode = 503;
  readonly status = 503;
  readonly retryAfterSeconds: number;
  /** Read by Express's and Koa's error handlers, so framework apps answer 503 + Retry-After too. */
  readonly headers: Readonly<Record<string, string>>;
  constructor(message: string, retryAfterSeconds = 1, options?: ErrorOptions) {
    super('PCLUSTER_DB_UNAVAILABLE', message, options);
    this.retryAfterSeconds = retryAfterSeconds;
    this.headers = { 'Retry-After': String(retryAfterSeconds) };
  }
}

/** The connection died while this request's transaction was open; the transaction is gone. */
export class TransactionLostError extends PclusterError {
  constructor() {
    super(
      'PCLUSTER_TRANSACTION_LOST',
      'this request\'s transaction is gone (its connection was lost, or its response ended and pcluster rolled it back); nothing of it was committed',
    );
  }
}

/** `db` was used outside a request, `setup` or `teardown`. */
export class NoRequestContextError extends PclusterError {
  constructor() {
    super('PCLUSTER_NO_CONTEXT', 'db used outside a request, setup() or teardown(), or first imported while a request ran; use req.db, call it from a handler, or import it at the top of the app module');
  }
}

/**
 * A statement came through one handle while another handle of the same request holds the worker's one
 * connection in a transaction: waiting would never end (the transaction waits for this request), so it fails at once.
 */
export class ConnectionPinnedError extends PclusterError {
  constructor(waiting: string, holder: string) {
    super(
      'PCLUSTER_CONNECTION_PINNED',
      `${waiting}: the worker's one connection is in a transaction opened by ${holder} for the same request; ` +
        'run this query through that transaction\'s handle (the trx / tx / client that ran BEGIN), or after it commits',
    );
  }
}

/** FATAL/PANIC: the server has ended this session. */
export function endsSession(error: unknown): boolean {
  const severity = (error as { severity?: string } | null)?.severity;
  return severity === 'FATAL' || severity === 'PANIC';
}

/**
 * A transaction pooler's own refusal of a statement: PgBouncer answers FATAL with SQLSTATE 08P01 when it has no
 * server connection to give (query_wait_timeout, server_login_retry while PostgreSQL is down) and closes the client.
 */
export function isPoolerRefusal(error: unknown): boolean {
  const { code, severity } = (error ?? {}) as { code?: unknown; severity?: unknown };
  return code === '08P01' && severity === 'FATAL';
}

/** An ErrorResponse from the server: the connection answered, so it is alive. */
export function isServerError(error: unknown): boolean {
  return typeof (error as { severity?: unknown } | null)?.severity === 'string';
}
