import { AsyncLocalStorage } from 'node:async_hooks';
import type { Db } from './db-session.js';

/**
 * The AsyncLocalStorage behind `import { db }`, and whether anything imported `db` at all.
 *
 * On Node 20 an active AsyncLocalStorage turns on promise hooks for every promise in the process
 * (17–90 µs of worker CPU per 3-query page, measured), so a worker whose app only uses
 * `req.db` never runs requests inside it: the module that defines `db` sets `isWanted` when it is
 * evaluated, which is when the app (or anything it loads) imports it.
 */
interface RequestContext {
  readonly storage: AsyncLocalStorage<Db>;
  isWanted: boolean;
}

// Shared through the global registry so that an app resolving its own copy of this package still sees the worker's context.
const CONTEXT_KEY = Symbol.for('pcluster.request-context.v2'); // v2: { storage, isWanted }, not the bare storage of 0.1.0 builds before it
const registry = globalThis as { [CONTEXT_KEY]?: RequestContext };
const context = (registry[CONTEXT_KEY] ??= { storage: new AsyncLocalStorage<Db>(), isWanted: false });

/** Called when `db` is imported: from now on requests run with `db` bound to their handle. */
export function wantRequestContext(): void {
  context.isWanted = true;
}

/** Runs `fn` with `db` bound to `handle` for everything it calls, synchronously or later — when the app imported `db`. */
export function runWithDb<A extends unknown[], R>(handle: Db, fn: (...args: A) => R, ...args: A): R {
  return context.isWanted ? context.storage.run(handle, fn, ...args) : fn(...args);
}

/**
 * Runs a lifecycle hook with `db` bound whether or not `db` was imported yet (a hook may import it
 * late, with `await import()`); afterwards, when nothing imported it, the storage is switched off
 * again so that requests pay nothing for it.
 */
export async function runHookWithDb<R>(handle: Db, fn: () => R | Promise<R>): Promise<R> {
  try {
    return await context.storage.run(handle, fn);
  } finally {
    if (!context.isWanted) context.storage.disable();
  }
}

/** The handle `db` stands for right now, or undefined outside a request, `setup` or `teardown`. */
export function currentHandle(): Db | undefined {
  return context.storage.getStore();
}
