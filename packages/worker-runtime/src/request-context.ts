import { AsyncLocalStorage } from 'node:async_hooks';
import type { QueryConfig, QueryResult, QueryResultRow } from 'pg';
import type { Db, TransactionOptions } from './db-session.js';
import { NoRequestContextError } from './errors.js';

// Shared through the global registry so that an app resolving its own copy of this package still sees the worker's context.
const STORAGE_KEY = Symbol.for('pcluster.request-context');
const registry = globalThis as { [STORAGE_KEY]?: AsyncLocalStorage<Db> };
const storage = (registry[STORAGE_KEY] ??= new AsyncLocalStorage<Db>());

/** Runs `fn` with `db` bound to `handle` for everything it calls, synchronously or later. */
export function runWithDb<A extends unknown[], R>(handle: Db, fn: (...args: A) => R, ...args: A): R {
  return storage.run(handle, fn, ...args);
}

function current(): Db {
  const handle = storage.getStore();
  if (handle === undefined) throw new NoRequestContextError();
  return handle;
}

/** The current request's connection handle (inside a handler, `setup` or `teardown`). */
export const db: Db = {
  query<R extends QueryResultRow = any>(textOrConfig: string | QueryConfig, values?: unknown[]): Promise<QueryResult<R>> {
    return current().query<R>(textOrConfig as string, values);
  },
  transaction<T>(fn: (tx: Db) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return current().transaction(fn, options);
  },
};
