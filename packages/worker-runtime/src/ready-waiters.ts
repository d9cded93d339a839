/**
 * Callers parked until the connection opens, each with its own deadline (pg-pool's pending queue, without the
 * clients): the keeper wakes them all when it opens or starts closing, and each rechecks the state itself.
 */
export class ReadyWaiters {
  readonly #waiters = new Set<() => void>();

  /** Resolves at the next `wakeAll()`; rejects with `unavailable()` at `deadline` (at once when it has passed). */
  wait(deadline: number, unavailable: () => Error): Promise<void> {
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) return Promise.reject(unavailable());
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(unavailable());
      }, remainingMs);
      this.#waiters.add(wake);
    });
  }

  /** Wakes every caller waiting now. */
  wakeAll(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}
