/**
 * The cluster's hard cap on database connections. A worker asks before it opens its
 * connection and holds the grant until its process has exited (its connection is gone
 * then); requests beyond the cap wait in arrival order.
 */
export class ConnectionBudget {
  #max: number;
  readonly #granted = new Set<number>();
  readonly #waiting: { readonly id: number; readonly grant: () => void }[] = [];

  constructor(max: number) {
    this.#max = max;
  }

  get max(): number {
    return this.#max;
  }

  get granted(): number {
    return this.#granted.size;
  }

  /** True while the worker `id` holds a connection grant. */
  holds(id: number): boolean {
    return this.#granted.has(id);
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Changes the cap; lowering it never revokes a grant, it only holds back new ones. */
  resize(max: number): void {
    this.#max = max;
    this.#pulse();
  }

  /** Calls `grant` now if the budget allows, else when it does. */
  request(id: number, grant: () => void): void {
    if (this.#granted.has(id)) return grant();
    this.#waiting.push({ id, grant });
    this.#pulse();
  }

  /** The worker `id` is gone: its grant (or its place in the queue) is returned. */
  release(id: number): void {
    const index = this.#waiting.findIndex((w) => w.id === id);
    if (index >= 0) this.#waiting.splice(index, 1);
    if (this.#granted.delete(id)) this.#pulse();
  }

  #pulse(): void {
    while (this.#waiting.length > 0 && this.#granted.size < this.#max) {
      const next = this.#waiting.shift()!;
      this.#granted.add(next.id);
      next.grant();
    }
  }
}
