import pg from 'pg';
import { backoffDelayMs } from './backoff.js';
import { DatabaseUnavailableError } from './errors.js';
import type { ConnectionState, DatabaseSettings } from './protocol.js';
import { StateMachine } from './state-machine.js';

const TRANSITIONS: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  connecting: ['ready', 'broken', 'closing'],
  ready: ['busy', 'broken', 'connecting', 'closing'],
  busy: ['ready', 'broken', 'closing'],
  broken: ['connecting', 'closing'],
  closing: ['closed'],
  closed: [],
};

const RECONNECT_BASE_MS = 100;
const RECONNECT_CAP_MS = 2_000;
const CONNECT_TIMEOUT_MS = 5_000;

export interface KeeperSettings {
  readonly database: DatabaseSettings;
  readonly validateAfterMs: number;
  readonly validationTimeoutMs: number;
  readonly connectionMaxAgeMs: number;
}

/** What the keeper reports; each callback is optional so tests and tools can listen to part of it. */
export interface KeeperEvents {
  stateChanged?(state: ConnectionState, backendPid: number | null): void;
  connected?(result: 'success' | 'failure', error?: Error): void;
  validated?(result: 'ok' | 'failed' | 'skipped'): void;
  /** The current connection is gone (socket closed, error, failed ping): any open transaction on it is lost. */
  lost?(error: Error | undefined): void;
}

/** How a connection problem reads in one line: where, as whom, and why — never the password. */
export function describeConnectFailure(client: pg.Client, error: Error): string {
  return `cannot connect to PostgreSQL at ${client.host}:${client.port}, database "${client.database}", user "${client.user}": ${error.message}`;
}

/**
 * Owns the worker's single pg.Client: connects, validates, lends it for one statement at a
 * time, replaces it when broken or old, and closes it. Nothing else touches the client.
 */
export class ConnectionKeeper {
  readonly #settings: KeeperSettings;
  readonly #events: KeeperEvents;
  readonly #machine: StateMachine<ConnectionState>;
  #client: pg.Client | null = null;
  #connectedAt = 0;
  #retireAt = Infinity;
  #lastUsedAt = 0;
  #lastValidatedAt: Date | null = null;
  #isSuspect = false;
  #reconnectAttempt = 0;
  #reconnecting: Promise<void> | null = null;
  #readyWaiters = new Set<() => void>();
  /** The one statement waiting for the server's ReadyForQuery after an error (see afterReadyForQuery). */
  #awaitingReadyForQuery: (() => void) | null = null;

  constructor(settings: KeeperSettings, events: KeeperEvents = {}) {
    this.#settings = settings;
    this.#events = events;
    this.#machine = new StateMachine<ConnectionState>('connecting', TRANSITIONS, (_from, to) => {
      this.#events.stateChanged?.(to, this.backendPid);
      if (to === 'ready') this.#wakeWaiters();
    });
  }

  get state(): ConnectionState {
    return this.#machine.state;
  }

  get backendPid(): number | null {
    return (this.#client as { processID?: number | null } | null)?.processID ?? null;
  }

  get lastValidatedAt(): Date | null {
    return this.#lastValidatedAt;
  }

  /**
   * Opens the first connection; rejects with the driver's error (the caller decides whether
   * that is fatal). While the server is unreachable it retries, with backoff, until `waitMs` passes;
   * a refused login or a missing database fails at once: waiting will not fix them.
   */
  async open(waitMs = 0, onRetry?: (error: Error, delayMs: number) => void): Promise<void> {
    const deadline = Date.now() + waitMs;
    for (let attempt = 0; ; attempt++) {
      const client = this.#createClient();
      try {
        await client.connect();
        this.#adopt(client);
        return;
      } catch (error) {
        this.#events.connected?.('failure', error as Error);
        this.#discard(client);
        const delayMs = backoffDelayMs(attempt, RECONNECT_BASE_MS, RECONNECT_CAP_MS);
        if (!isUnreachable(error) || Date.now() + delayMs > deadline) {
          throw Object.assign(error as Error, { summary: describeConnectFailure(client, error as Error) });
        }
        onRetry?.(error as Error, delayMs);
        await sleep(delayMs);
      }
    }
  }

  /**
   * The client, lent at once for exactly one statement, when nothing has to happen first
   * (it is ready, not due for retirement, and used within the validation window, or inside a
   * transaction); null otherwise, and then `acquire` does the work. The statement path calls
   * this first so the common case costs no promise.
   */
  lendNow(isInTransaction: boolean): pg.Client | null {
    const client = this.#client;
    if (this.#machine.state !== 'ready' || client === null) return null;
    if (isInTransaction) return this.#lend(client);
    const now = Date.now();
    if (now >= this.#retireAt || this.#isSuspect || now - this.#lastUsedAt >= this.#settings.validateAfterMs) return null;
    this.#events.validated?.('skipped');
    return this.#lend(client);
  }

  /**
   * Resolves with the client, validated if it was idle or suspect, ready for exactly one
   * statement; the caller must `release` it. Waits for a reconnect until `deadline`.
   * Inside a transaction the connection is handed out as is: a ping cannot run in a
   * failed transaction, and the connection must not be replaced under it.
   */
  async acquire(deadline: number, isInTransaction: boolean): Promise<pg.Client> {
    for (;;) {
      const state = this.#machine.state;
      if (state === 'closing' || state === 'closed') {
        throw new DatabaseUnavailableError('the worker is shutting down its database connection');
      }
      const lent = this.lendNow(isInTransaction);
      if (lent !== null) return lent;
      const client = this.#client;
      if (state === 'ready' && client !== null) {
        if (Date.now() >= this.#retireAt) {
          await this.#replace();
          continue;
        }
        if (await this.#validate(client)) return this.#lend(client);
        continue;
      }
      await this.#waitUntilReady(deadline);
    }
  }

  /** Gives the client back after one statement; `succeeded` false makes the next use ping first. */
  release(client: pg.Client, succeeded: boolean): void {
    if (client !== this.#client || this.#machine.state !== 'busy') return;
    if (succeeded) this.#lastUsedAt = Date.now();
    else this.#isSuspect = true;
    this.#machine.transition('ready');
  }

  /** The statement's error says the server ended this session: the connection is replaced now. */
  discard(client: pg.Client, error: Error): void {
    this.#onLost(client, error);
  }

  /** The ReadyForQuery status of `client`, or null when it is no longer the live connection. */
  transactionStatus(client: pg.Client): 'I' | 'T' | 'E' | null {
    if (client !== this.#client || this.#machine.is('broken', 'closing', 'closed')) return null;
    return client.getTransactionStatus() as 'I' | 'T' | 'E';
  }

  /**
   * True when `client` has had the server's ReadyForQuery for everything sent on it (or is no longer
   * the live connection). node-postgres reports an ErrorResponse before that ReadyForQuery arrives.
   */
  hasReadyForQuery(client: pg.Client): boolean {
    return client !== this.#client || (client as unknown as { readyForQuery: boolean }).readyForQuery;
  }

  /** Calls `then` once `client` has had its ReadyForQuery, or at once when the connection is lost or closed first. */
  afterReadyForQuery(client: pg.Client, then: () => void): void {
    if (this.hasReadyForQuery(client)) {
      then();
      return;
    }
    const { connection } = client;
    const settle = (): void => {
      connection.off('readyForQuery', settle);
      this.#awaitingReadyForQuery = null;
      then();
    };
    // node-postgres' own readyForQuery listener was added at connect, so it has run (status, queue) when this one runs.
    connection.on('readyForQuery', settle);
    this.#awaitingReadyForQuery = settle;
  }

  /** Closes the connection with a proper Terminate message; the keeper stays closed. */
  async close(): Promise<void> {
    if (this.#machine.is('closing', 'closed')) return;
    this.#machine.transition('closing');
    this.#wakeWaiters();
    const client = this.#client;
    this.#client = null;
    this.#awaitingReadyForQuery?.();
    if (client !== null) await this.#end(client);
    this.#machine.transition('closed');
  }

  #createClient(): pg.Client {
    const { database } = this.#settings;
    const client = new pg.Client({
      connectionString: database.connectionString,
      application_name: database.applicationName,
      options: sessionOptions(database.session),
      keepAlive: true,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    // Every client carries an error listener for its whole life: a socket error must never crash the worker.
    client.on('error', (error) => this.#onLost(client, error));
    client.on('end', () => this.#onLost(client, undefined));
    return client;
  }

  #adopt(client: pg.Client): void {
    this.#client = client;
    this.#connectedAt = Date.now();
    this.#lastUsedAt = this.#connectedAt;
    this.#lastValidatedAt = new Date(this.#connectedAt);
    this.#isSuspect = false;
    this.#reconnectAttempt = 0;
    const { connectionMaxAgeMs } = this.#settings;
    // Up to 10% early, so workers started together do not all reconnect in the same second.
    this.#retireAt = connectionMaxAgeMs > 0 ? this.#connectedAt + connectionMaxAgeMs * (1 - Math.random() * 0.1) : Infinity;
    this.#events.connected?.('success');
    this.#machine.transition('ready');
  }

  #lend(client: pg.Client): pg.Client {
    this.#machine.transition('busy');
    return client;
  }

  async #validate(client: pg.Client): Promise<boolean> {
    this.#machine.transition('busy');
    try {
      await client.query({ text: 'SELECT 1', query_timeout: this.#settings.validationTimeoutMs } as pg.QueryConfig);
    } catch (error) {
      this.#events.validated?.('failed');
      this.#onLost(client, error as Error);
      return false;
    }
    if (client !== this.#client || this.#machine.state !== 'busy') return false;
    this.#events.validated?.('ok');
    this.#lastValidatedAt = new Date();
    this.#lastUsedAt = Date.now();
    this.#isSuspect = false;
    this.#machine.transition('ready');
    return true;
  }

  /** Break-before-make: the old connection is closed before the new one opens, so the worker never holds two. */
  async #replace(): Promise<void> {
    const old = this.#client;
    this.#client = null;
    this.#machine.transition('connecting');
    if (old !== null) await this.#end(old);
    this.#startReconnecting();
  }

  #onLost(client: pg.Client, error: Error | undefined): void {
    if (client !== this.#client) return;
    if (this.#machine.is('closing', 'closed', 'broken', 'connecting')) return;
    this.#client = null;
    this.#discard(client);
    this.#machine.transition('broken');
    this.#awaitingReadyForQuery?.();
    this.#events.lost?.(error);
    this.#startReconnecting();
  }

  #startReconnecting(): void {
    this.#reconnecting ??= this.#reconnectLoop().finally(() => {
      this.#reconnecting = null;
    });
  }

  async #reconnectLoop(): Promise<void> {
    while (this.#machine.is('broken', 'connecting')) {
      this.#machine.transition('connecting');
      const client = this.#createClient();
      try {
        await client.connect();
      } catch (error) {
        this.#events.connected?.('failure', error as Error);
        this.#discard(client);
        if (!this.#machine.is('connecting')) return;
        this.#machine.transition('broken');
        await sleep(backoffDelayMs(this.#reconnectAttempt++, RECONNECT_BASE_MS, RECONNECT_CAP_MS));
        continue;
      }
      if (!this.#machine.is('connecting')) {
        this.#discard(client);
        return;
      }
      this.#adopt(client);
    }
  }

  #waitUntilReady(deadline: number): Promise<void> {
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) {
      return Promise.reject(new DatabaseUnavailableError(`the database connection is ${this.#machine.state}`));
    }
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#readyWaiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#readyWaiters.delete(wake);
        reject(new DatabaseUnavailableError(`the database connection is ${this.#machine.state}`));
      }, remainingMs);
      this.#readyWaiters.add(wake);
    });
  }

  #wakeWaiters(): void {
    // Runs after every statement (busy → ready); almost always nobody waits.
    if (this.#readyWaiters.size === 0) return;
    for (const wake of [...this.#readyWaiters]) wake();
  }

  async #end(client: pg.Client): Promise<void> {
    const timer = setTimeout(() => client.connection.stream.destroy(), this.#settings.validationTimeoutMs);
    try {
      await client.end();
    } catch {
      // The connection was already gone; there is nothing left to close.
    } finally {
      clearTimeout(timer);
    }
  }

  #discard(client: pg.Client): void {
    void this.#end(client);
  }
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);
/** SQLSTATEs of a server that is there but cannot take us yet: starting up, shutting down, full. */
const NOT_YET_SQLSTATES = new Set(['57P03', '57P01', '53300']);

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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
