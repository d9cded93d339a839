import type { QueryConfig, QueryResult, QueryResultRow } from 'pg';
import type { Db, TransactionOptions } from './db-session.js';
import { NoRequestContextError } from './errors.js';
import { currentHandle, wantRequestContext } from './request-context.js';

// Evaluating this module is what tells the worker that the app uses `import { db }` (see request-context.ts).
wantRequestContext();

/** Outside a request, `setup` or `teardown` the promise rejects (as node-postgres reports its errors), it does not throw. */
function outsideAnyRequest(): Promise<never> {
  return Promise.reject(new NoRequestContextError());
}

/** The current request's connection handle (inside a handler, `setup` or `teardown`). */
export const db: Db = {
  query<R extends QueryResultRow = any>(textOrConfig: string | QueryConfig, values?: unknown[]): Promise<QueryResult<R>> {
    return currentHandle()?.query<R>(textOrConfig as string, values) ?? outsideAnyRequest();
  },
  transaction<T>(fn: (tx: Db) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return currentHandle()?.transaction(fn, options) ?? outsideAnyRequest();
  },
};
