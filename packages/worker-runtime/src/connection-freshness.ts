/** The keeper's limits on how long a connection is trusted without a check, and how long it lives. */
export interface FreshnessLimits {
  /** An idle connection is pinged before it is lent again after this long; a busy one is shown alive by its replies. */
  readonly validateAfterMs: number;
  /** A connection is replaced (between requests) after this long; 0 = never. */
  readonly connectionMaxAgeMs: number;
}

/**
 * When the live connection was last known alive and when it must retire: the keeper asks it whether a ping or a
 * replacement has to come before the next lend, so neither question is answered twice in two ways.
 */
export class ConnectionFreshness {
  readonly #limits: FreshnessLimits;
  readonly #random: () => number;
  #retireAt = Infinity;
  #lastUsedAt = 0;
  #lastValidatedAt: Date | null = null;
  #isSuspect = false;

  /** `random` spreads retirement; a test passes its own to pin it. */
  constructor(limits: FreshnessLimits, random: () => number = Math.random) {
    this.#limits = limits;
    this.#random = random;
  }

  /** When the connection was last shown alive by a ping (or by opening); null before the first connection. */
  get lastValidatedAt(): Date | null {
    return this.#lastValidatedAt;
  }

  /** A new connection opened at `now`: it counts as validated, and its retirement is set. */
  connected(now: number): void {
    this.#lastUsedAt = now;
    this.#lastValidatedAt = new Date(now);
    this.#isSuspect = false;
    const { connectionMaxAgeMs } = this.#limits;
    // Up to 10% early, so workers started together do not all reconnect in the same second.
    this.#retireAt = connectionMaxAgeMs > 0 ? now + connectionMaxAgeMs * (1 - this.#random() * 0.1) : Infinity;
  }

  /** A reply came at `now`: the validation window starts again. */
  used(now: number): void {
    this.#lastUsedAt = now;
  }

  /** A statement failed without a reply from the server: the next lend after a pause must ping first. */
  suspect(): void {
    this.#isSuspect = true;
  }

  /** A ping at `now` succeeded: the connection is trusted again. */
  validated(now: number): void {
    this.#lastValidatedAt = new Date(now);
    this.#lastUsedAt = now;
    this.#isSuspect = false;
  }

  /** Whether an idle connection must be pinged before it is lent at `now`. */
  isDueForValidation(now: number): boolean {
    return this.#isSuspect || now - this.#lastUsedAt >= this.#limits.validateAfterMs;
  }

  /** Whether the connection is old enough at `now` to be replaced before it takes anything new. */
  isDueForRetirement(now: number): boolean {
    return now >= this.#retireAt;
  }
}
