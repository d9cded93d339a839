/**
 * The cluster's start-up lock held by the primary: one worker at a time runs its database work at load and in
 * setup(). Used where PostgreSQL's advisory lock cannot be held (behind a transaction pooler, which sends the lock
 * and the unlock to different server connections). First come, first served; a worker that exits lets it go.
 */
export class BootLock {
  #holder: number | undefined;
  readonly #waiting: { readonly id: number; readonly grant: () => void }[] = [];

  /** `grant` runs once worker `id` holds the lock: now if it is free, else when the workers before it release it. */
  request(id: number, grant: () => void): void {
    if (this.#holder === undefined) {
      this.#holder = id;
      grant();
    } else this.#waiting.push({ id, grant });
  }

  /** Worker `id` is done with it (or gone): the next one in line gets it. */
  release(id: number): void {
    const queued = this.#waiting.findIndex((entry) => entry.id === id);
    if (queued !== -1) this.#waiting.splice(queued, 1);
    if (this.#holder !== id) return;
    const next = this.#waiting.shift();
    this.#holder = next?.id;
    next?.grant();
  }
}
