import './http-augmentation.js';

export { db } from './current-db.js';
export type { Db, IsolationLevel, TransactionOptions } from './db-session.js';
export type { LifecycleContext, LifecycleHook } from './app-module.js';
export { PclusterError, DatabaseUnavailableError, TransactionLostError, NoRequestContextError, ConnectionPinnedError } from './errors.js';
