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

/**
 * The server ended the session and said so in-band (admin_shutdown, crash_shutdown): it
 * aborted the statement and rolled it back, so running it again elsewhere cannot run it twice.
 */
const SERVER_TERMINATED = new Set(['57P01', '57P02']);

function wasTerminatedByServer(error: unknown): boolean {
  return SERVER_TERMINATED.has((error as { code?: string } | null)?.code ?? '');
}

interface PendingStatement {
  readonly session: SessionLike;
  readonly run: (client: pg.Client) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  readonly enqueuedAt: number;
  timer: NodeJS.Timeout | undefined;
  /** pcluster's own ROLLBACK of an abandoned transaction: it runs even though the session's transaction is gone. */
  readonly isRollback?: boolean;
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
    if (session.isTransactionLost && statement.isRollback !== true) {
      this.#finish(statement, false, new TransactionLostError());
      return;
    }
    const isInTransaction = this.#pinnedTo === session;
    let attempt = await this.#attempt(statement, statement.enqueuedAt + this.#settings.leaseTimeoutMs, isInTransaction);
    // Outside a transaction, a statement the server itself aborted while ending the session (pg_terminate_backend,
    // a restart) had no effect: it runs once more on the new connection. A socket that just died may have run it: no retry.
    if (!attempt.succeeded && !isInTransaction && attempt.wasConnectionLost && wasTerminatedByServer(attempt.outcome)) {
      attempt = await this.#attempt(statement, Date.now() + this.#settings.leaseTimeoutMs, false);
    }
    this.#finish(statement, attempt.succeeded, attempt.outcome);
  }

  /** One try of a statement: acquire the connection, run, release, and pin or unpin the session from the resulting status. */
  async #attempt(statement: PendingStatement, deadline: number, isInTransaction: boolean): Promise<{ succeeded: boolean; outcome: unknown; wasConnectionLost: boolean }> {
    const { session } = statement;
    let client: pg.Client;
    try {
      client = await this.#keeper.acquire(deadline, isInTransaction);
    } catch (error) {
      return { succeeded: false, outcome: error, wasConnectionLost: false };
    }
    this.#events.leaseWaited?.((Date.now() - statement.enqueuedAt) / 1000);
    let succeeded = true;
    let outcome: unknown;
    try {
      outcome = await statement.run(client);
    } catch (error) {
      succeeded = false;
      outcome = error;
      // FATAL/PANIC: the server has ended this session; do not wait for the socket to say so.
      if (['FATAL', 'PANIC'].includes((error as { severity?: string }).severity ?? '')) this.#keeper.discard(client, error as Error);
    }
    const status = this.#keeper.transactionStatus(client);
    this.#keeper.release(client, succeeded);
    if (status === 'T' || status === 'E') this.#pin(session);
    else if (this.#pinnedTo === session) {
      if (status === null) session.isTransactionLost = true;
      this.#unpin();
    }
    return { succeeded, outcome, wasConnectionLost: status === null };
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
    // A handler still running after its response ended must not go on outside the transaction it thinks it has:
    // its later statements fail instead of autocommitting half of its work.
    session.isTransactionLost = true;
    const rollback: PendingStatement = {
      session,
      run: (client) => client.query('ROLLBACK'),
      resolve: () => {},
      reject: () => {},
      enqueuedAt: Date.now(),
      timer: undefined,
      isRollback: true,
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
