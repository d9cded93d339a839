import type pg from 'pg';
import type { ConnectionKeeper } from './connection-keeper.js';
import { ConnectionPinnedError, DatabaseUnavailableError, endsSession, isPoolerRefusal, isServerError, TransactionLostError } from './errors.js';
import { corkUntilImmediate } from './pg-internals.js';
import type { PlannedStatement, QueryCallback } from './query-runner.js';
import type { SessionLike } from './session-like.js';
import { SilenceDeadline } from './silence-deadline.js';
export type { SessionLike } from './session-like.js';
export type { PipelineEvents, PipelineSettings } from './pipeline-settings.js';
import type { PendingStatement, PipelineEvents, PipelineSettings } from './pipeline-settings.js';


function isSameOwner(a: SessionLike, b: SessionLike): boolean {
  return a.owner !== null && a.owner === b.owner;
}

const ROLLBACK: PlannedStatement = { isBarrier: true, run: (client, _inTx, done) => client.query('ROLLBACK', done) };

/**
 * Every statement of the worker goes onto its one connection through here, in arrival order.
 * Statements outside a transaction are pipelined: written without waiting for earlier replies,
 * up to `pipelineDepth` in flight, each its own implicit transaction. A barrier (a statement that
 * can open or end a transaction) is written only once nothing is in flight, and nothing is written
 * behind it until its reply says where the connection stands; a transaction pins the connection to
 * its session until it ends, and the others wait (up to the lease timeout). A session that ends
 * with its transaction open is rolled back before anyone else runs.
 */
export class StatementPipeline {
  readonly #keeper: ConnectionKeeper;
  readonly #settings: PipelineSettings;
  readonly #events: PipelineEvents;
  /** Statements not yet written, in arrival order. */
  readonly #waiting: PendingStatement[] = [];
  #inFlight = 0;
  /** A barrier has been written and its outcome (the transaction status after it) is not known yet. */
  #isBarrierOut = false;
  /** The connection is being validated, replaced or waited for before the next write. */
  #isAcquiring = false;
  #pinnedTo: SessionLike | null = null;
  #pinnedAt = 0;
  #isRollbackQueued = false;
  /** The client whose writes are held until this turn of the event loop ends (see corkUntilImmediate). */
  #corked: pg.Client | null = null;
  #leakTimer: NodeJS.Timeout | undefined;
  /** One timer for the whole pipeline, due when the oldest waiting statement's lease runs out. */
  #leaseTimer: NodeJS.Timeout | undefined;
  readonly #silence: SilenceDeadline; // --keepalive-timeout on the client's side

  constructor(keeper: ConnectionKeeper, settings: PipelineSettings, events: PipelineEvents = {}) {
    this.#keeper = keeper;
    this.#settings = settings;
    this.#events = events;
    this.#silence = new SilenceDeadline(settings.keepaliveTimeoutMs, (client, error) => keeper.discard(client, error));
  }

  /** True while `session` holds the connection in a transaction. */
  isPinnedTo(session: SessionLike): boolean {
    return this.#pinnedTo === session;
  }

  /** Runs the statement when its turn comes; rejects with DatabaseUnavailableError after the lease timeout. */
  submit<T>(session: SessionLike, statement: PlannedStatement): Promise<T> {
    if (session.isTransactionLost) return Promise.reject(new TransactionLostError());
    const pinned = this.#pinnedTo;
    if (pinned !== null && pinned !== session && isSameOwner(pinned, session)) return Promise.reject(new ConnectionPinnedError(session.label, pinned.label));
    return new Promise<T>((resolve, reject) => {
      const now = Date.now();
      this.#waiting.push({ session, statement, resolve: resolve as (value: unknown) => void, reject, enqueuedAt: now });
      this.#pulse(now);
      if (this.#waiting.length > 0) this.#armLeaseTimer();
    });
  }

  /** Marks the session finished; an open transaction it left behind is rolled back as soon as its statements are answered. */
  endSession(session: SessionLike): void {
    session.isEnded = true;
    if (this.#pinnedTo === session && this.#inFlight === 0 && !this.#isBarrierOut) this.#rollBack(session);
    if (session.companions !== undefined) for (const companion of session.companions.values()) this.endSession(companion);
  }

  /** The connection was lost: a pinned transaction is gone, so its session is told and the pin released. */
  connectionLost(): void {
    const session = this.#pinnedTo;
    if (session === null) return;
    session.isTransactionLost = true;
    this.#unpin();
    this.#pulse();
  }

  /** Writes what may be written now: the head of the queue (or the pinned session's next statement) while the rules allow. `now`: the clock, when the caller has just read it. */
  #pulse(now = 0): void {
    while (this.#waiting.length > 0 && !this.#isBarrierOut && !this.#isAcquiring) {
      const pinned = this.#pinnedTo;
      const index = pinned === null ? 0 : this.#waiting.findIndex((p) => p.session === pinned);
      if (index < 0) return;
      const next = this.#waiting[index]!;
      if (next.session.isTransactionLost && next.isRollback !== true) {
        this.#waiting.splice(index, 1);
        next.reject(new TransactionLostError());
        continue;
      }
      if (next.statement.isBarrier ? this.#inFlight > 0 : this.#inFlight >= this.#settings.pipelineDepth) return;
      if (now === 0) now = Date.now();
      const client = this.#keeper.usable(this.#inFlight > 0, pinned !== null, now);
      if (client === null) {
        // Validation, retirement or a reconnect comes first, once what is in flight has been answered.
        if (this.#inFlight === 0) this.#acquire(next);
        return;
      }
      // shift(), not splice(0, 1): splice builds an array of what it removed (~6x the instructions).
      if (index === 0) this.#waiting.shift();
      else this.#waiting.splice(index, 1);
      this.#write(client, next, now);
    }
  }

  /** Gets the connection ready (validated, replaced, reconnected) within `head`'s lease, then writes on. */
  #acquire(head: PendingStatement): void {
    this.#isAcquiring = true;
    const isInTransaction = this.#pinnedTo !== null;
    this.#keeper.acquire(head.enqueuedAt + this.#settings.leaseTimeoutMs, isInTransaction).then(
      (client) => {
        this.#isAcquiring = false;
        const index = this.#waiting.indexOf(head);
        if (index >= 0 && (this.#pinnedTo === null || this.#pinnedTo === head.session)) {
          this.#waiting.splice(index, 1);
          this.#write(client, head, Date.now());
        }
        this.#pulse();
      },
      (error: unknown) => {
        this.#isAcquiring = false;
        const index = this.#waiting.indexOf(head);
        if (index >= 0) {
          this.#waiting.splice(index, 1);
          this.#events.leaseTimedOut?.(head.session);
          head.reject(error);
        }
        this.#pulse();
      },
    );
  }

  #write(client: pg.Client, pending: PendingStatement, now: number): void {
    this.#inFlight += 1;
    this.#silence.written(client);
    if (pending.statement.isBarrier) this.#isBarrierOut = true;
    this.#events.written?.((now - pending.enqueuedAt) / 1000, this.#inFlight);
    let isAnswered = false;
    const done: QueryCallback = (error, result) => {
      if (isAnswered) return;
      isAnswered = true;
      this.#answered(client, pending, error, result);
    };
    if (this.#corked !== client) {
      this.#corked = client;
      corkUntilImmediate(client, () => {
        this.#corked = null;
      });
    }
    try {
      pending.statement.run(client, this.#pinnedTo === pending.session, done);
    } catch (error) {
      // node-postgres threw while writing the statement: what reached the server is unknown and its reply may
      // never come, so the connection is replaced rather than waited on.
      this.#keeper.discard(client, error as Error);
      done(error as Error);
    }
  }

  #answered(client: pg.Client, pending: PendingStatement, error: Error | null | undefined, result: unknown): void {
    this.#inFlight -= 1;
    this.#silence.answered(this.#inFlight);
    const { session, statement } = pending;
    const now = Date.now();
    if (error == null || isServerError(error)) this.#keeper.markAlive(client, now);
    // After any error the connection is pinged before the next statement that finds nothing in flight (SPEC §3).
    if (error != null && endsSession(error)) this.#keeper.discard(client, error);
    else if (error != null) this.#keeper.markSuspect(client);
    if (statement.isBarrier) {
      // node-postgres reports an ErrorResponse before the server's ReadyForQuery, which is what says whether a
      // transaction is now open, failed or gone: an empty query behind it brings that ReadyForQuery's status.
      if (error != null && this.#keeper.transactionStatus(client) !== null) client.query('', () => this.#barrierSettled(client, pending));
      else this.#barrierSettled(client, pending);
    } else if (error == null && this.#pinnedTo === null && this.#inFlight === 0 && this.#keeper.transactionStatus(client) === 'T') {
      // Not a barrier, yet a transaction is open: the statement was misread; it is this session's transaction from now on.
      this.#pin(session);
    } else if (session.isEnded && this.#pinnedTo === session && this.#inFlight === 0 && !this.#isBarrierOut) {
      this.#rollBack(session);
    }
    if (error == null) pending.resolve(result);
    else if (this.#settings.pooler === 'transaction' && isPoolerRefusal(error)) {
      // Behind a pooler the connection is to the pooler, which stays up through a database outage: its refusal is the outage.
      pending.reject(new DatabaseUnavailableError(`the pooler could not give the statement a server connection: ${error.message}`, 1, { cause: error }));
    } else pending.reject(error);
    this.#pulse(now);
  }

  /** The barrier's outcome is known: the session holds the connection while a transaction is open, and lets go when it ends. */
  #barrierSettled(client: pg.Client, pending: PendingStatement): void {
    this.#isBarrierOut = false;
    const { session } = pending;
    const status = this.#keeper.transactionStatus(client);
    if (status === 'T' || status === 'E') {
      if (pending.isRollback === true) this.#keeper.discard(client, new Error('ROLLBACK left a transaction open'));
      else this.#pin(session);
    } else if (this.#pinnedTo === session) {
      if (status === null) session.isTransactionLost = true;
      this.#unpin();
    }
    if (session.isEnded && this.#pinnedTo === session && this.#inFlight === 0) this.#rollBack(session);
    this.#pulse();
  }

  #rollBack(session: SessionLike): void {
    if (this.#isRollbackQueued) return;
    this.#isRollbackQueued = true;
    const heldMs = Date.now() - this.#pinnedAt;
    // A handler still running after its response ended must not go on outside the transaction it thinks it has:
    // its later statements fail instead of autocommitting half of its work.
    session.isTransactionLost = true;
    this.#events.rolledBack?.(session, heldMs);
    this.#waiting.unshift({ session, statement: ROLLBACK, resolve: () => {}, reject: () => {}, enqueuedAt: Date.now(), isRollback: true });
    this.#pulse();
  }

  #pin(session: SessionLike): void {
    if (this.#pinnedTo === session) return;
    this.#pinnedTo = session;
    this.#pinnedAt = Date.now();
    // Statements another handle of the same request queued while this transaction was being opened would wait for it forever.
    for (const pending of this.#waiting.filter((p) => p.session !== session && isSameOwner(p.session, session))) {
      this.#waiting.splice(this.#waiting.indexOf(pending), 1);
      pending.reject(new ConnectionPinnedError(pending.session.label, session.label));
    }
    const thresholdMs = this.#settings.leakThresholdMs;
    if (thresholdMs > 0) this.#warnIfLeaked(session, thresholdMs);
  }

  /** Warns once `session` has held the connection `thresholdMs` by Date.now() (a timer may fire a millisecond early: it waits out the rest). */
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
    this.#isRollbackQueued = false;
    clearTimeout(this.#leakTimer);
  }

  #armLeaseTimer(): void {
    if (this.#leaseTimer !== undefined) return;
    // Statements wait in arrival order, so the first one that can time out is the oldest.
    const oldest = this.#waiting.find((p) => p.isRollback !== true);
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
    const isOverdue = (p: PendingStatement): boolean => p.isRollback !== true && now >= p.enqueuedAt + this.#settings.leaseTimeoutMs;
    const overdue = this.#waiting.filter(isOverdue);
    if (overdue.length === 0) return;
    this.#waiting.splice(0, this.#waiting.length, ...this.#waiting.filter((p) => !isOverdue(p)));
    for (const pending of overdue) {
      this.#events.leaseTimedOut?.(pending.session);
      pending.reject(new DatabaseUnavailableError(`waited ${this.#settings.leaseTimeoutMs}ms for the worker's database connection`));
    }
    this.#pulse();
  }
}
