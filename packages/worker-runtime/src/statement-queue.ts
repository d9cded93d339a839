import type pg from 'pg';
import type { ConnectionKeeper } from './connection-keeper.js';
import { DatabaseUnavailableError, TransactionLostError } from './errors.js';

/** One request's claim on the connection: statements of one session run in order, a transaction pins it. */
export interface SessionLike {
  readonly label: string;
  readonly startedAt: number;
  isEnded: boolean;
  isTransactionLost: boolean;
}

interface PendingStatement {
  readonly session: SessionLike;
  readonly run: (client: pg.Client) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  readonly enqueuedAt: number;
  timer: NodeJS.Timeout | undefined;
}

export interface StatementQueueSettings {
  readonly leaseTimeoutMs: number;
  readonly leakThresholdMs: number;
}

export interface StatementQueueEvents {
  leaseWaited?(seconds: number): void;
  leaseTimedOut?(session: SessionLike): void;
  rolledBack?(session: SessionLike, heldMs: number): void;
  leaked?(session: SessionLike, heldMs: number): void;
}

/**
 * Serialises every statement of the worker onto its one connection, in arrival order,
 * and pins the connection to a session while that session has a transaction open: then
 * only that session's statements run, the others wait (up to the lease timeout). A
 * session that ends with its transaction open is rolled back before anyone else runs.
 */
export class StatementQueue {
  readonly #keeper: ConnectionKeeper;
  readonly #settings: StatementQueueSettings;
  readonly #events: StatementQueueEvents;
  readonly #pending: PendingStatement[] = [];
  #running: PendingStatement | null = null;
  #pinnedTo: SessionLike | null = null;
  #pinnedAt = 0;
  #leakTimer: NodeJS.Timeout | undefined;

  constructor(keeper: ConnectionKeeper, settings: StatementQueueSettings, events: StatementQueueEvents = {}) {
    this.#keeper = keeper;
    this.#settings = settings;
    this.#events = events;
  }

  /** True while `session` holds the connection in a transaction. */
  isPinnedTo(session: SessionLike): boolean {
    return this.#pinnedTo === session;
  }

  /** Runs `run` on the connection when the session's turn comes; rejects with DatabaseUnavailableError after the lease timeout. */
  submit<T>(session: SessionLike, run: (client: pg.Client) => Promise<T>): Promise<T> {
    if (session.isTransactionLost) return Promise.reject(new TransactionLostError());
    return new Promise<T>((resolve, reject) => {
      const statement: PendingStatement = {
        session,
        run,
        resolve: resolve as (value: unknown) => void,
        reject,
        enqueuedAt: Date.now(),
        timer: undefined,
      };
      this.#pending.push(statement);
      this.#pulse();
      if (this.#running !== statement) {
        statement.timer = setTimeout(() => this.#expire(statement), this.#settings.leaseTimeoutMs);
      }
    });
  }

  /** Marks the session finished; an open transaction it left behind is rolled back now. */
  endSession(session: SessionLike): void {
    session.isEnded = true;
    if (this.#pinnedTo === session && this.#running?.session !== session) this.#rollBack(session);
  }

  /** The connection was lost: a pinned transaction is gone, so its session is told and the pin released. */
  connectionLost(): void {
    const session = this.#pinnedTo;
    if (session === null || this.#running?.session === session) return;
    session.isTransactionLost = true;
    this.#unpin();
    this.#pulse();
  }

  /** Decides what runs next: the head of the queue, or the pinned session's next statement. */
  #pulse(): void {
    if (this.#running !== null) return;
    const pinned = this.#pinnedTo;
    const index = pinned === null ? (this.#pending.length > 0 ? 0 : -1) : this.#pending.findIndex((p) => p.session === pinned);
    if (index < 0) return;
    const [next] = this.#pending.splice(index, 1) as [PendingStatement];
    clearTimeout(next.timer);
    this.#running = next;
    void this.#execute(next);
  }

  async #execute(statement: PendingStatement): Promise<void> {
    const { session } = statement;
    const isInTransaction = this.#pinnedTo === session;
    let client: pg.Client;
    try {
      client = await this.#keeper.acquire(statement.enqueuedAt + this.#settings.leaseTimeoutMs, isInTransaction);
    } catch (error) {
      this.#finish(statement, false, error);
      return;
    }
    this.#events.leaseWaited?.((Date.now() - statement.enqueuedAt) / 1000);
    let succeeded = true;
    let outcome: unknown;
    try {
      outcome = await statement.run(client);
    } catch (error) {
      succeeded = false;
      outcome = error;
    }
    const status = this.#keeper.transactionStatus(client);
    this.#keeper.release(client, succeeded);
    if (status === 'T' || status === 'E') this.#pin(session);
    else if (this.#pinnedTo === session) {
      if (status === null) session.isTransactionLost = true;
      this.#unpin();
    }
    this.#finish(statement, succeeded, outcome);
  }

  #finish(statement: PendingStatement, succeeded: boolean, outcome: unknown): void {
    this.#running = null;
    const { session } = statement;
    if (session.isEnded && this.#pinnedTo === session) this.#rollBack(session);
    if (succeeded) statement.resolve(outcome);
    else statement.reject(outcome);
    this.#pulse();
  }

  #rollBack(session: SessionLike): void {
    const heldMs = Date.now() - this.#pinnedAt;
    const rollback: PendingStatement = {
      session,
      run: (client) => client.query('ROLLBACK'),
      resolve: () => {},
      reject: () => {},
      enqueuedAt: Date.now(),
      timer: undefined,
    };
    this.#events.rolledBack?.(session, heldMs);
    this.#pending.unshift(rollback);
    this.#pulse();
  }

  #pin(session: SessionLike): void {
    if (this.#pinnedTo === session) return;
    this.#pinnedTo = session;
    this.#pinnedAt = Date.now();
    const thresholdMs = this.#settings.leakThresholdMs;
    if (thresholdMs > 0) {
      this.#leakTimer = setTimeout(() => this.#events.leaked?.(session, Date.now() - this.#pinnedAt), thresholdMs);
      this.#leakTimer.unref();
    }
  }

  #unpin(): void {
    this.#pinnedTo = null;
    clearTimeout(this.#leakTimer);
  }

  #expire(statement: PendingStatement): void {
    const index = this.#pending.indexOf(statement);
    if (index < 0) return;
    this.#pending.splice(index, 1);
    this.#events.leaseTimedOut?.(statement.session);
    statement.reject(
      new DatabaseUnavailableError(`waited ${this.#settings.leaseTimeoutMs}ms for the worker's database connection`),
    );
  }
}
