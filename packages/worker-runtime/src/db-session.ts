import type { QueryConfig, QueryResult, QueryResultRow } from 'pg';
import { PclusterError } from './errors.js';
import type { QueryRunner } from './query-runner.js';
import type { SessionLike, StatementPipeline } from './statement-pipeline.js';

export const ISOLATION_LEVELS = ['read uncommitted', 'read committed', 'repeatable read', 'serializable'] as const;
export type IsolationLevel = (typeof ISOLATION_LEVELS)[number];

export interface TransactionOptions {
  readonly isolation?: IsolationLevel;
}

/** The node-postgres query surface a handler gets as `req.db` and `import { db }`. */
export interface Db {
  query<R extends QueryResultRow = any, I extends unknown[] = unknown[]>(text: string, values?: I): Promise<QueryResult<R>>;
  query<R extends QueryResultRow = any, I extends unknown[] = unknown[]>(config: QueryConfig<I>): Promise<QueryResult<R>>;
  /** BEGIN … COMMIT around `fn`, ROLLBACK when it throws; the connection is this request's until then. */
  transaction<T>(fn: (tx: Db) => Promise<T>, options?: TransactionOptions): Promise<T>;
}

const kind = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);

/**
 * Why a query config cannot be run, if it cannot. node-postgres would throw half-way through writing
 * it to the socket (a number as name or text), or keep the connection for itself (a pg-cursor or
 * pg-query-stream), and either would leave the worker's one connection waiting forever.
 */
function configProblem(config: unknown): string | undefined {
  if (typeof config !== 'object' || config === null) return `db.query() takes SQL text or a { text, values, name } object, not ${kind(config)}`;
  const { text, name, submit, rows, query_timeout: timeout } = config as { text?: unknown; name?: unknown; submit?: unknown; rows?: unknown; query_timeout?: unknown };
  if (typeof submit === 'function' || rows !== undefined) {
    return 'db.query() cannot run a pg-cursor, a pg-query-stream or a query config with rows: they read a result over several round trips, and the worker\'s one connection serves every request; page with LIMIT instead';
  }
  if (timeout !== undefined) {
    return 'db.query({ query_timeout }) would close the connection every request shares when it fires; use --session statement_timeout=5s, or SET LOCAL statement_timeout inside a transaction';
  }
  if (typeof text !== 'string') return `db.query({ text }) needs the SQL as a string in text, not ${kind(text)}`;
  if (name !== undefined && (typeof name !== 'string' || name === '')) return `db.query({ name }) needs a non-empty string as the statement name, not ${kind(name) === 'string' ? 'an empty string' : kind(name)}`;
  return undefined;
}

/**
 * One request's (or setup's / teardown's) handle on the worker's connection — or, as a companion, the
 * part of a request that runs through one of the app's own pg Pool/Client handles (SPEC §2.1).
 */
export class DbSession implements Db, SessionLike {
  readonly label: string;
  readonly startedAt = Date.now();
  isEnded = false;
  isTransactionLost = false;
  readonly owner: DbSession | null;
  /** The app's own pg handles used while this session's request ran, each with its own session (SPEC §2.1). */
  companions?: Map<object, DbSession>;
  /**
   * Awaited before this session's (and its companions') first statement: the boot's cluster-wide advisory
   * lock, taken only when the boot touches the database (SPEC §2: load-time DDL does not race).
   */
  gate: (() => Promise<unknown>) | undefined;
  readonly #pipeline: StatementPipeline;
  readonly #runner: QueryRunner;

  /** `owner`: the request this session works for (itself when omitted); null for background work. */
  constructor(pipeline: StatementPipeline, runner: QueryRunner, label: string, owner?: DbSession | null) {
    this.#pipeline = pipeline;
    this.#runner = runner;
    this.label = label;
    this.owner = owner === undefined ? this : owner;
  }

  query<R extends QueryResultRow = any>(textOrConfig: string | QueryConfig, values?: unknown[]): Promise<QueryResult<R>> {
    const problem = typeof textOrConfig === 'string' ? undefined : configProblem(textOrConfig);
    if (problem !== undefined) return Promise.reject(new PclusterError('PCLUSTER_BAD_QUERY', problem));
    const gate = this.owner?.gate;
    if (gate !== undefined) return gate().then(() => this.#pipeline.submit<QueryResult<R>>(this, this.#runner.plan(textOrConfig, values)));
    return this.#pipeline.submit<QueryResult<R>>(this, this.#runner.plan(textOrConfig, values));
  }

  /** The session `handle` (one of the app's own pg Pools or Clients) runs in while this request lasts. */
  companion(handle: object, label: string): DbSession {
    const companions = (this.companions ??= new Map());
    let session = companions.get(handle);
    if (session === undefined) {
      session = new DbSession(this.#pipeline, this.#runner, `${this.label} via ${label}`, this);
      companions.set(handle, session);
    }
    return session;
  }

  /** Forgets `handle`'s companion (a released pool client): its next use in this request starts afresh. */
  dropCompanion(handle: object): DbSession | undefined {
    const session = this.companions?.get(handle);
    this.companions?.delete(handle);
    return session;
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (this.#pipeline.isPinnedTo(this)) {
      throw new PclusterError('PCLUSTER_NESTED_TRANSACTION', 'db.transaction() called inside an open transaction; use SAVEPOINT for nesting');
    }
    const { isolation } = options;
    if (isolation !== undefined && !ISOLATION_LEVELS.includes(isolation)) {
      throw new PclusterError('PCLUSTER_BAD_ISOLATION', `isolation "${String(isolation)}" is not one of: ${ISOLATION_LEVELS.join(', ')}`);
    }
    await this.query(isolation === undefined ? 'BEGIN' : `BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}`);
    let result: T;
    try {
      result = await fn(this);
    } catch (error) {
      await this.query('ROLLBACK').catch(() => {});
      throw error;
    }
    const commit = await this.query('COMMIT');
    if (commit.command === 'ROLLBACK') {
      throw new PclusterError('PCLUSTER_TRANSACTION_ABORTED', 'the transaction was aborted by an earlier error and has been rolled back');
    }
    return result;
  }
}
