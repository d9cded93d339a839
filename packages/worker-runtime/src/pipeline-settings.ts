/** What a StatementPipeline is given and reports, and what it queues. */
import type { PlannedStatement } from './query-runner.js';
import type { SessionLike } from './session-like.js';

export interface PendingStatement {
  readonly session: SessionLike;
  readonly statement: PlannedStatement;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  readonly enqueuedAt: number;
  /** pcluster's own ROLLBACK of an abandoned transaction: it runs even though the session's transaction is gone, and never times out. */
  readonly isRollback?: boolean;
}

export interface PipelineSettings {
  readonly leaseTimeoutMs: number;
  readonly leakThresholdMs: number;
  /** Statements in flight at most; 1 writes one at a time. */
  readonly pipelineDepth: number;
  readonly keepaliveTimeoutMs: number; // statements in flight with no reply this long: the server is gone (SilenceDeadline)
  readonly pooler?: 'none' | 'transaction'; // behind PgBouncer its refusals of a statement mean the database is unavailable
}

export interface PipelineEvents {
  /** A statement was written after waiting `seconds`; `depth` statements are now in flight, itself included. */
  written?(seconds: number, depth: number): void;
  leaseTimedOut?(session: SessionLike): void;
  rolledBack?(session: SessionLike, heldMs: number): void;
  leaked?(session: SessionLike, heldMs: number): void;
}
