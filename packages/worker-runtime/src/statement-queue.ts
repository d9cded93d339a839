import type pg from 'pg';
import type { ConnectionKeeper } from './connection-keeper.js';
import { DatabaseUnavailableError, TransactionLostError } from './errors.js';
import type { QueryCallback } from './query-runner.js';

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

/** FATAL/PANIC: the server has ended this session. */
function endsSession(error: unknown): boolean {
  const severity = (error as { severity?: string } | null)?.severity;
  return severity === 'FATAL' || severity === 'PANIC';
}

/** Runs one statement on the lent client and calls `done` exactly once with its outcome. */
export type StatementRun = (client: pg.Client, done: QueryCallback) => void;

interface PendingStatement {
  readonly session: SessionLike;
  readonly run: StatementRun;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  readonly enqueuedAt: number;
  /** pcluster's own ROLLBACK of an abandoned transaction: it runs even though the session's transaction is gone, and never times out. */
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
  /** One timer for the whole queue, due when the oldest waiting statement's lease runs out. */
  #leaseTimer: NodeJS.Timeout | undefined;

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
  submit<T>(session: SessionLike, run: StatementRun): Promise<T> {
    if (session.isTransactionLost) return Promise.reject(new TransactionLostError());
    return new Promise<T>((resolve, reject) => {
      const statement: PendingStatement = { session, run, resolve: resolve as (value: unknown) => void, reject, enqueuedAt: Date.now() };
      this.#pending.push(statement);
      this.#pulse();
      if (this.#running !== statement) this.#armLeaseTimer();
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
    const next = (index === 0 ? this.#pending.shift() : this.#pending.splice(index, 1)[0]) as PendingStatement;
    this.#running = next;
    this.#execute(next, false);
  }

  /**
   * Runs the statement on the connection: at once when the keeper can lend it now (the
   * common case: no promise of ours in between), else after the keeper has validated or
   * reconnected it, within the statement's lease.
   */
  #execute(statement: PendingStatement, isRetry: boolean): void {
    const { session } = statement;
    if (session.isTransactionLost && statement.isRollback !== true) {
      this.#finish(statement, false, new TransactionLostError());
      return;
    }
    const isInTransaction = this.#pinnedTo === session;
    const client = this.#keeper.lendNow(isInTransaction);
    if (client !== null) {
      this.#runOn(client, statement, isInTransaction, isRetry);
      return;
    }
    const deadline = (isRetry ? Date.now() : statement.enqueuedAt) + this.#settings.leaseTimeoutMs;
    this.#keeper.acquire(deadline, isInTransaction).then(
      (acquired) => this.#runOn(acquired, statement, isInTransaction, isRetry),
      (error: unknown) => this.#finish(statement, false, error),
    );
  }

  /**
   * Runs the statement through node-postgres' callback (no promise of ours or of the driver's
   * per statement: with `import { db }` every promise also pays the AsyncLocalStorage hooks).
   */
  #runOn(client: pg.Client, statement: PendingStatement, isInTransaction: boolean, isRetry: boolean): void {
    this.#events.leaseWaited?.((Date.now() - statement.enqueuedAt) / 1000);
    let isDone = false;
    const done: QueryCallback = (error, outcome) => {
      if (isDone) return;
      isDone = true;
      if (error) this.#failed(client, statement, isInTransaction, isRetry, error);
      else {
        this.#settle(client, statement.session, true);
        this.#finish(statement, true, outcome);
      }
    };
    try {
      statement.run(client, done);
    } catch (error) {
      // node-postgres threw while writing the statement: what reached the server is unknown and no ReadyForQuery may
      // ever come, so the connection is replaced rather than waited on forever.
      if (!this.#keeper.hasReadyForQuery(client)) this.#keeper.discard(client, error as Error);
      done(error as Error);
    }
  }

  #failed(client: pg.Client, statement: PendingStatement, isInTransaction: boolean, isRetry: boolean, error: Error): void {
    // FATAL/PANIC: the server has ended this session; do not wait for the socket to say so.
    if (endsSession(error)) this.#keeper.discard(client, error);
    if (!this.#keeper.hasReadyForQuery(client)) {
      // node-postgres reports an ErrorResponse (or its own query_timeout) before the server's ReadyForQuery, which is what
      // says whether a transaction is now open or failed: the caller hears now, the connection moves on after it.
      statement.reject(error);
      this.#keeper.afterReadyForQuery(client, () => {
        this.#settle(client, statement.session, false);
        this.#finish(statement, false, error);
      });
      return;
    }
    const wasConnectionLost = this.#settle(client, statement.session, false);
    // Outside a transaction, a statement the server itself aborted while ending the session (pg_terminate_backend,
    // a restart) had no effect: it runs once more on the new connection. A socket that just died may have run it: no retry.
    if (!isRetry && !isInTransaction && wasConnectionLost && wasTerminatedByServer(error)) this.#execute(statement, true);
    else this.#finish(statement, false, error);
  }

  /**
   * Gives the client back after a statement and pins or unpins the session from the
   * resulting transaction status. True when the connection was lost under the statement.
   */
  #settle(client: pg.Client, session: SessionLike, succeeded: boolean): boolean {
    const status = this.#keeper.transactionStatus(client);
    this.#keeper.release(client, succeeded);
    if (status === 'T' || status === 'E') this.#pin(session);
    else if (this.#pinnedTo === session) {
      if (status === null) session.isTransactionLost = true;
      this.#unpin();
    }
    return status === null;
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
      run: (client, done) => client.query({ text: 'ROLLBACK' }, done),
      resolve: () => {},
      reject: () => {},
      enqueuedAt: Date.now(),
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
    if (thresholdMs > 0) this.#warnIfLeaked(session, thresholdMs);
  }

  /**
   * Warns once `session` has held the connection for `thresholdMs` by Date.now(). A timer runs on the
   * event loop's own millisecond clock, truncated at other instants than Date.now()'s, so it can fire a
   * millisecond before the threshold has passed by Date.now() (a warning "past 150 ms" with heldMs 149,
   * seen in the leak-threshold test): then it waits out the rest.
   */
  #warnIfLeaked(session: SessionLike, thresholdMs: number): void {
    const heldMs = Date.now() - this.#pinnedAt;
    if (heldMs >= thresholdMs) {
      this.#events.leaked?.(session, heldMs);
      return;
    }
    this.#leakTimer = setTimeout(() => this.#warnIfLeaked(session, thresholdMs), thresholdMs - heldMs);
    this.#leakTimer.unref();
  }

  #unpin(): void {
    this.#pinnedTo = null;
    clearTimeout(this.#leakTimer);
  }

  #armLeaseTimer(): void {
    if (this.#leaseTimer !== undefined) return;
    // Statements wait in arrival order, so the first one that can time out is the oldest.
    const oldest = this.#pending.find((p) => p.isRollback !== true);
    if (oldest === undefined) return;
    const dueInMs = oldest.enqueuedAt + this.#settings.leaseTimeoutMs - Date.now();
    this.#leaseTimer = setTimeout(() => {
      this.#leaseTimer = undefined;
      this.#expireOverdue();
      this.#armLeaseTimer();
    }, Math.max(dueInMs, 0));
    // Waiting statements belong to requests whose sockets keep the worker alive; the timer alone must not.
    this.#leaseTimer.unref();
  }

  #expireOverdue(): void {
    const now = Date.now();
    const overdue = this.#pending.filter((p) => p.isRollback !== true && now >= p.enqueuedAt + this.#settings.leaseTimeoutMs);
    if (overdue.length === 0) return;
    this.#pending.splice(0, this.#pending.length, ...this.#pending.filter((p) => !overdue.includes(p)));
    for (const statement of overdue) {
      this.#events.leaseTimedOut?.(statement.session);
      statement.reject(new DatabaseUnavailableError(`waited ${this.#settings.leaseTimeoutMs}ms for the worker's database connection`));
    }
  }
}
