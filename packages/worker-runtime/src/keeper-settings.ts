/** What a ConnectionKeeper is given, and what it reports. */
import type { ConnectionState, DatabaseSettings } from './protocol.js';

export interface KeeperSettings {
  readonly database: DatabaseSettings;
  readonly validateAfterMs: number;
  readonly validationTimeoutMs: number;
  readonly connectionMaxAgeMs: number;
  readonly keepaliveTimeoutMs: number;
  /** Behind a transaction pooler the server's key data names no backend of ours: there is no backend pid to report. */
  readonly pooler?: 'none' | 'transaction';
}

/** What the keeper reports; each callback is optional so tests and tools can listen to part of it. */
export interface KeeperEvents {
  stateChanged?(state: ConnectionState, backendPid: number | null): void;
  /** `limit`: refused for a connection limit (SQLSTATE 53300); the keeper is `waiting` for a slot. */
  connected?(result: 'success' | 'failure' | 'limit', error?: Error): void;
  /** A reconnect failed: `attempt` counts from 1 in each outage; the next comes in `retryInMs`. */
  reconnectFailed?(error: Error, attempt: number, retryInMs: number): void;
  validated?(result: 'ok' | 'failed' | 'skipped'): void;
  /** The current connection is gone (socket closed, error, failed ping): any open transaction on it is lost. */
  lost?(error: Error | undefined): void;
}
