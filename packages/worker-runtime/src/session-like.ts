/** One request's claim on the connection: statements of one session run in order, a transaction pins it. */
export interface SessionLike {
  readonly label: string;
  readonly startedAt: number;
  isEnded: boolean;
  isTransactionLost: boolean;
  /**
   * The request (or boot) this session works for; null for background work. Two sessions of one owner
   * cannot wait on each other's transaction: that would never end (SPEC §2.1, PCLUSTER_CONNECTION_PINNED).
   */
  readonly owner: SessionLike | null;
  /** Sessions of the app's own pg handles used for this one (SPEC §2.1): they end with it. */
  readonly companions?: ReadonlyMap<unknown, SessionLike>;
}
