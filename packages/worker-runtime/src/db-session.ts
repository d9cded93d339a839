import type { QueryConfig, QueryResult, QueryResultRow } from 'pg';
import { PclusterError } from './errors.js';
import type { QueryCallback, QueryRunner } from './query-runner.js';
import type { SessionLike, StatementQueue } from './statement-queue.js';

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

/** One request's (or setup's / teardown's) handle on the worker's connection. */
export class DbSession implements Db, SessionLike {
  readonly label: string;
  readonly startedAt = Date.now();
  isEnded = false;
  isTransactionLost = false;
  readonly #queue: StatementQueue;
  readonly #runner: QueryRunner;

  constructor(queue: StatementQueue, runner: QueryRunner, label: string) {
    this.#queue = queue;
    this.#runner = runner;
    this.label = label;
  }

  query<R extends QueryResultRow = any>(textOrConfig: string | QueryConfig, values?: unknown[]): Promise<QueryResult<R>> {
    return this.#queue.submit<QueryResult<R>>(this, (client, done) => this.#runner.run(client, textOrConfig, values, done as QueryCallback));
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (this.#queue.isPinnedTo(this)) {
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
