/**
 * The module the app's own `pg` resolves to in a worker (SPEC §2.1): node-postgres' exports with a Pool
 * and a Client that open no connection of their own (pg-stand-in-handles.ts).
 */
import pg from 'pg';
import { wantRequestContext } from './request-context.js';
import { countConnections, nextHandleLabel, RealClient, runtime, settle, Handle, StandInClient, StandInPoolClient, type PoolOfClients } from './pg-stand-in-handles.js';

export { installPgCompatRuntime, type PgCompatRuntime } from './pg-stand-in-handles.js';

type Callback = (error: Error | null, result?: unknown) => void;

/** `new Pool()`: queries run on its own session per request; `connect()` hands out client handles. */
class StandInPool extends Handle implements PoolOfClients {
  readonly options!: Record<string, unknown>;
  readonly #label: string;
  readonly #idle: StandInPoolClient[] = [];
  #clientCount = 0;
  #total = 0;
  ending = false;
  ended = false;
  readonly expiredCount = 0;
  readonly waitingCount = 0;

  constructor(config?: unknown) {
    const label = nextHandleLabel('pg Pool');
    super(label);
    this.#label = label;
    if (runtime?.adopts(config, 'Pool') === false) return countConnections(new RealPool(config as pg.PoolConfig), 'remove') as unknown as StandInPool;
    wantRequestContext();
    this.options = { ...(typeof config === 'object' && config !== null ? config : {}) };
  }

  get totalCount(): number {
    return this.#total;
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  query(config: unknown, values?: unknown, callback?: unknown): Promise<pg.QueryResult> | undefined {
    if (this.ending) {
      const error = new Error('Cannot use a pool after calling end on the pool');
      return settle(Promise.reject(error), (typeof values === 'function' ? values : callback) as Callback | undefined);
    }
    return this.run(config, values, callback, undefined);
  }

  connect(callback?: (error: Error | null, client?: StandInPoolClient, release?: (error?: Error) => void) => void): Promise<StandInPoolClient> | undefined {
    const acquired: Promise<StandInPoolClient> = this.ending
      ? Promise.reject(new Error('Cannot use a pool after calling end on the pool'))
      : runtime!.whenReady().then(() => {
          let client = this.#idle.pop();
          if (client === undefined) {
            client = new StandInPoolClient(this, `${this.#label} client #${++this.#clientCount}`);
            this.#total += 1;
            this.emit('connect', client);
          }
          this.emit('acquire', client.acquired());
          return client;
        });
    if (callback === undefined) return acquired;
    acquired.then((client) => callback(null, client, (error) => client.release(error)), (error: Error) => callback(error));
    return undefined;
  }

  released(client: StandInPoolClient, isBroken: boolean): void {
    this.emit('release', isBroken ? new Error('released with an error') : undefined, client);
    if (isBroken || this.ending) {
      this.#total -= 1;
      this.emit('remove', client);
    } else this.#idle.push(client);
  }

  end(callback?: Callback): Promise<void> | undefined {
    if (!this.ending) {
      this.ending = true;
      this.ended = true;
      for (const client of this.#idle.splice(0)) this.emit('remove', client);
      this.#total = 0;
    }
    return settle(Promise.resolve(), callback);
  }
}

const RealPool = pg.Pool;

/** `instanceof Pool` / `instanceof Client` also hold for the real ones a foreign target got (drizzle checks it). */
for (const [standIn, real] of [[StandInPool, RealPool], [StandInClient, RealClient]] as const) {
  Object.defineProperty(standIn, Symbol.hasInstance, {
    value: (value: unknown) => value instanceof real || Object.prototype.isPrototypeOf.call(standIn.prototype, value as object),
  });
}

/** The module the app's `pg` resolves to in a worker: node-postgres' own exports, with these Pool and Client. */
export const pgStandIn: Record<string, unknown> = Object.freeze({
  ...Object.fromEntries(Object.keys(pg).map((key) => [key, (pg as unknown as Record<string, unknown>)[key]])),
  Client: StandInClient,
  Pool: StandInPool,
  native: null,
});

