import type pg from 'pg';

/**
 * The client's side of --keepalive-timeout (SPEC §6). Node sets neither TCP_USER_TIMEOUT nor the keepalive probe
 * count, so a reply a network partition swallowed would be waited on for the kernel's retransmission limit
 * (~15 minutes): with statements in flight and no reply for `timeoutMs`, the server is taken for gone.
 */
export class SilenceDeadline {
  readonly #timeoutMs: number;
  readonly #onSilent: (client: pg.Client, error: Error) => void;
  #timer: NodeJS.Timeout | undefined;
  #client: pg.Client | null = null;

  constructor(timeoutMs: number, onSilent: (client: pg.Client, error: Error) => void) {
    this.#timeoutMs = timeoutMs;
    this.#onSilent = onSilent;
  }

  /** A statement was written on `client`: the clock runs from now, unless it already runs for an earlier one there. */
  written(client: pg.Client): void {
    if (this.#timer === undefined || this.#client !== client) this.#arm(client);
  }

  /** A statement was answered (or failed); `inFlight` still wait for theirs: the clock starts again for them, or stops. */
  answered(inFlight: number): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (inFlight > 0 && this.#client !== null) this.#arm(this.#client);
  }

  #arm(client: pg.Client): void {
    clearTimeout(this.#timer);
    this.#client = client;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const seconds = this.#timeoutMs / 1000;
      this.#onSilent(client, new Error(`no reply from PostgreSQL for ${seconds}s with statements in flight (--keepalive-timeout): taken for a network partition`));
    }, this.#timeoutMs);
    // The requests waiting on those statements keep the worker alive; this timer alone must not.
    this.#timer.unref();
  }
}
