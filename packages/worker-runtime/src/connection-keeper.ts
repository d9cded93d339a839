import pg from 'pg';
import { retryDelayMs, sleep } from './backoff.js';
import { DatabaseUnavailableError } from './errors.js';
import { endClient } from './pg-internals.js';
import { ConnectionFreshness } from './connection-freshness.js';
import type { KeeperEvents, KeeperSettings } from './keeper-settings.js';
import type { ConnectionState } from './protocol.js';
import { ReadyWaiters } from './ready-waiters.js';
import { StateMachine } from './state-machine.js';
import { appTarget, clientConfig, describeConnectFailure, isRefusedForLimit, isUnreachable, type SettingsOrigin } from './connect-settings.js';

export type { KeeperEvents, KeeperSettings } from './keeper-settings.js';
export { describeConnectFailure, isRefusedForLimit, isUnreachable, sessionOptions } from './connect-settings.js';

const TRANSITIONS: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  connecting: ['open', 'broken', 'waiting', 'closing'],
  open: ['broken', 'connecting', 'closing'],
  broken: ['connecting', 'closing'],
  // While it waits it stays `waiting` through its attempts (status does not flicker), until one succeeds or fails otherwise.
  waiting: ['open', 'connecting', 'broken', 'closing'],
  closing: ['closed'],
  closed: [],
};

/**
 * Owns the worker's single pg.Client (in node-postgres' pipeline mode): connects, validates,
 * says when it may be written to, replaces it when broken or old, and closes it. The statement
 * pipeline writes on it; nothing else touches the client.
 */
export class ConnectionKeeper {
  readonly #settings: KeeperSettings;
  readonly #events: KeeperEvents;
  readonly #machine: StateMachine<ConnectionState>;
  readonly #freshness: ConnectionFreshness;
  readonly #waiters = new ReadyWaiters();
  #client: pg.Client | null = null;
  #reconnectAttempt = 0;
  #slotWaitAttempt = 0;
  #reconnecting: Promise<void> | null = null;
  #appSettings: pg.ClientConfig = {};

  constructor(settings: KeeperSettings, events: KeeperEvents = {}) {
    this.#settings = settings;
    this.#events = events;
    this.#freshness = new ConnectionFreshness(settings);
    this.#machine = new StateMachine<ConnectionState>('connecting', TRANSITIONS, (_from, to) => {
      this.#events.stateChanged?.(to, this.backendPid);
      if (to === 'open') this.#waiters.wakeAll();
    });
  }

  get state(): ConnectionState {
    return this.#machine.state;
  }

  get backendPid(): number | null {
    if (this.#settings.pooler === 'transaction') return null;
    return (this.#client as { processID?: number | null } | null)?.processID ?? null;
  }

  get lastValidatedAt(): Date | null {
    return this.#freshness.lastValidatedAt;
  }

  /**
   * Opens the first connection; rejects with the driver's error (the caller decides whether
   * that is fatal). While the server is unreachable it retries, with backoff, until `waitMs` passes;
   * a refused login or a missing database fails at once: waiting will not fix them. A login refused
   * for a connection limit waits for a slot (SPEC §6) as long as it takes; once the server has
   * answered so, an unreachable server is waited out too. Resolves without a connection when closed meanwhile.
   * `onRetry` hears of each retry: the attempt that failed (from 1) and the wait before the next.
   */
  async open(waitMs = 0, onRetry?: (error: Error, attempt: number, retryInMs: number) => void): Promise<void> {
    const deadline = Date.now() + waitMs;
    let hasServerAnswered = false;
    for (let attempt = 0; this.#machine.is('connecting', 'waiting'); ) {
      const client = this.#createClient();
      try {
        await client.connect();
      } catch (error) {
        this.#discard(client);
        if (isRefusedForLimit(error)) {
          hasServerAnswered = true;
          await this.#waitForSlot();
          continue;
        }
        this.#events.connected?.('failure', error as Error);
        if (this.#machine.is('waiting')) this.#machine.transition('connecting');
        const delayMs = retryDelayMs('outage', attempt++);
        if (!isUnreachable(error) || (!hasServerAnswered && Date.now() + delayMs > deadline)) {
          throw Object.assign(error as Error, { summary: describeConnectFailure(client, error as Error, this.#settingsOrigin()) });
        }
        onRetry?.(error as Error, attempt, delayMs); // attempt was counted up above: the one that failed, from 1
        await sleep(delayMs);
        continue;
      }
      if (this.#machine.is('connecting', 'waiting')) this.#adopt(client);
      else this.#discard(client);
      return;
    }
  }

  /**
   * The client, to write on now, when nothing has to happen first; null when a validation, a
   * replacement or a reconnect must come first (then `acquire`, once nothing is in flight). A busy
   * pipeline needs no validation (its replies show the connection alive) and inside a transaction
   * the connection is never checked or replaced; one due for retirement takes nothing new outside
   * a transaction, so that it drains.
   */
  usable(isPipelineBusy: boolean, isInTransaction: boolean, now = Date.now()): pg.Client | null {
    const client = this.#client;
    if (this.#machine.state !== 'open' || client === null) return null;
    if (isInTransaction) return client;
    if (this.#freshness.isDueForRetirement(now)) return null;
    if (!isPipelineBusy && this.#freshness.isDueForValidation(now)) return null;
    this.#events.validated?.('skipped');
    return client;
  }

  /**
   * Resolves with the client, validated if it was idle or suspect, replaced if it was due; waits
   * for a reconnect until `deadline`. Called with nothing in flight. Inside a transaction the
   * connection is handed out as is: a ping cannot run in a failed transaction, and the connection
   * must not be replaced under it.
   */
  async acquire(deadline: number, isInTransaction: boolean): Promise<pg.Client> {
    for (;;) {
      const state = this.#machine.state;
      if (state === 'closing' || state === 'closed') {
        throw new DatabaseUnavailableError('the worker is shutting down its database connection');
      }
      const client = this.#client;
      if (state === 'open' && client !== null) {
        if (isInTransaction) return client;
        if (this.#freshness.isDueForRetirement(Date.now())) {
          await this.#replace();
          continue;
        }
        if (!this.#freshness.isDueForValidation(Date.now())) return client;
        if (await this.#validate(client)) return client;
        continue;
      }
      await this.#waitUntilReady(deadline);
    }
  }

  /** Resolves once the connection is open; rejects with DatabaseUnavailableError at `deadline`. */
  whenReady(deadline: number): Promise<void> {
    return this.#machine.state === 'open' ? Promise.resolve() : this.#waitUntilReady(deadline);
  }

  /** A reply came on `client`: it is alive now (the validation window starts again). */
  markAlive(client: pg.Client, now = Date.now()): void {
    if (client === this.#client) this.#freshness.used(now);
  }

  /** A statement on `client` failed without a reply from the server: it is pinged before it is used again after a pause. */
  markSuspect(client: pg.Client): void {
    if (client === this.#client) this.#freshness.suspect();
  }

  /** The statement's error says the server ended this session: the connection is replaced now. */
  discard(client: pg.Client, error: Error): void {
    this.#onLost(client, error);
  }

  /** The ReadyForQuery status after the last reply on `client`, or null when it is no longer the live connection. */
  transactionStatus(client: pg.Client): 'I' | 'T' | 'E' | null {
    if (client !== this.#client || this.#machine.is('broken', 'closing', 'closed')) return null;
    return client.getTransactionStatus() as 'I' | 'T' | 'E';
  }

  /** Closes the connection with a proper Terminate message; the keeper stays closed. */
  async close(): Promise<void> {
    if (this.#machine.is('closing', 'closed')) return;
    this.#machine.transition('closing');
    this.#waiters.wakeAll();
    const client = this.#client;
    this.#client = null;
    if (client !== null) await this.#endClient(client);
    this.#machine.transition('closed');
  }

  /**
   * Where to connect, when pcluster was told nothing (SPEC §2.1): the target and credentials of the first
   * Pool/Client config the app creates. pcluster's own settings (application_name, session, pipelining) stay.
   */
  useAppSettings(config: pg.ClientConfig): void {
    this.#appSettings = appTarget(config);
  }

  #settingsOrigin(): SettingsOrigin {
    if (this.#settings.database.isConfigured) return 'pcluster';
    return Object.keys(this.#appSettings).length > 0 ? 'app' : 'defaults';
  }

  #createClient(): pg.Client {
    const client = new pg.Client(clientConfig(this.#settings.database, this.#appSettings, this.#settings.keepaliveTimeoutMs, this.#settings.pooler));
    // Every client carries an error listener for its whole life: a socket error must never crash the worker.
    client.on('error', (error) => this.#onLost(client, error));
    client.on('end', () => this.#onLost(client, undefined));
    return client;
  }

  #adopt(client: pg.Client): void {
    this.#client = client;
    this.#freshness.connected(Date.now());
    this.#reconnectAttempt = 0;
    this.#slotWaitAttempt = 0;
    this.#events.connected?.('success');
    this.#machine.transition('open');
  }

  async #validate(client: pg.Client): Promise<boolean> {
    try {
      await client.query({ text: 'SELECT 1', query_timeout: this.#settings.validationTimeoutMs } as pg.QueryConfig);
    } catch (error) {
      this.#events.validated?.('failed');
      this.#onLost(client, error as Error);
      return false;
    }
    if (client !== this.#client || this.#machine.state !== 'open') return false;
    this.#events.validated?.('ok');
    this.#freshness.validated(Date.now());
    return true;
  }

  /** Break-before-make: the old connection is closed before the new one opens, so the worker never holds two. */
  async #replace(): Promise<void> {
    const old = this.#client;
    this.#client = null;
    this.#machine.transition('connecting');
    if (old !== null) await this.#endClient(old);
    this.#startReconnecting();
  }

  #onLost(client: pg.Client, error: Error | undefined): void {
    if (client !== this.#client) return;
    if (this.#machine.is('closing', 'closed', 'broken', 'connecting', 'waiting')) return;
    this.#client = null;
    this.#discard(client);
    this.#machine.transition('broken');
    this.#events.lost?.(error);
    this.#startReconnecting();
  }

  #startReconnecting(): void {
    this.#reconnecting ??= this.#reconnectLoop().finally(() => {
      this.#reconnecting = null;
    });
  }

  async #reconnectLoop(): Promise<void> {
    while (this.#machine.is('broken', 'connecting', 'waiting')) {
      if (!this.#machine.is('waiting')) this.#machine.transition('connecting');
      const client = this.#createClient();
      try {
        await client.connect();
      } catch (error) {
        this.#discard(client);
        if (!this.#machine.is('connecting', 'waiting')) return;
        if (isRefusedForLimit(error)) {
          await this.#waitForSlot();
          continue;
        }
        this.#events.connected?.('failure', error as Error);
        this.#machine.transition('broken');
        const delayMs = retryDelayMs('outage', this.#reconnectAttempt++);
        this.#events.reconnectFailed?.(error as Error, this.#reconnectAttempt, delayMs);
        await sleep(delayMs);
        continue;
      }
      if (!this.#machine.is('connecting', 'waiting')) return this.#discard(client);
      this.#adopt(client);
    }
  }

  /** The server refused the login for a connection limit: `waiting`, for a backoff with jitter, before the next attempt. */
  async #waitForSlot(): Promise<void> {
    this.#events.connected?.('limit');
    if (!this.#machine.is('connecting', 'waiting')) return;
    this.#machine.transition('waiting');
    await sleep(retryDelayMs('slotWait', this.#slotWaitAttempt++));
  }

  #waitUntilReady(deadline: number): Promise<void> {
    const why = (): string => (this.#machine.is('waiting') ? 'waiting for a server slot (PostgreSQL refused the login for a connection limit)' : this.#machine.state);
    return this.#waiters.wait(deadline, () => new DatabaseUnavailableError(`the database connection is ${why()}`));
  }

  #endClient(client: pg.Client): Promise<void> {
    return endClient(client, this.#settings.validationTimeoutMs);
  }

  #discard(client: pg.Client): void {
    void this.#endClient(client);
  }
}
