/**
 * What the app's own `require('pg')` / `import pg from 'pg'` get in a worker (SPEC §2.1): a Pool and a
 * Client with node-postgres' API that open no connection of their own. Their queries run on the worker's
 * one connection, each handle in a session of its own per request (a companion of the request's
 * session), so that a transaction one handle opens pins the connection to that handle alone.
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { DbSession } from './db-session.js';
import { PclusterError } from './errors.js';
import { currentHandle, wantRequestContext } from './request-context.js';

/** What the stand-ins need from the worker. */
export interface PgCompatRuntime {
  /** A session for work outside any request and boot (timers, queues). */
  backgroundSession(label: string): DbSession;
  /** Whether a Pool/Client with this config runs on the worker's connection (else the real pg takes it). */
  adopts(config: unknown, kind: 'Pool' | 'Client'): boolean;
  /** Ends `session` (a released handle's): a transaction it left open is rolled back and counted. */
  endSession(session: DbSession): void;
  /** Resolves once the worker's connection is ready; rejects (DatabaseUnavailableError) after the lease timeout. */
  whenReady(): Promise<void>;
  readonly backendPid: number | null;
  /** A connection the real pg opened (+1) or closed (-1) for a foreign Pool/Client. */
  foreignConnected(delta: 1 | -1): void;
}

type Callback = (error: Error | null, result?: unknown) => void;

/** Statements that need a connection of their own; SPEC §2.1 sends them to `--pg-compat off`. */
const NEEDS_OWN_CONNECTION = /^\s*(?:listen|unlisten|copy\b[\s\S]*\b(?:stdin|stdout))\b/i;

function unsupported(what: string): PclusterError {
  return new PclusterError(
    'PCLUSTER_PG_COMPAT_UNSUPPORTED',
    `${what} needs a connection of its own, and the app's pg runs on the worker's one shared connection; ` +
      'start with --pg-compat off to give the app the real pg (its connections are then outside the budget)',
  );
}

let runtime: PgCompatRuntime | undefined;
let handleCount = 0;

/** Settles `promise` through a node-style callback when one is given, else returns it. */
function settle<T>(promise: Promise<T>, callback: Callback | undefined): Promise<T> | undefined {
  if (callback === undefined) return promise;
  promise.then((value) => callback(null, value), (error: Error) => callback(error));
  return undefined;
}

/** A Pool or Client: the sessions its queries run in, per request. */
abstract class Handle extends EventEmitter {
  readonly #label: string;
  #background: DbSession | undefined;

  constructor(label: string) {
    super();
    this.#label = label;
  }

  /** The session this handle runs in now: its companion of the current request (or boot), or its background one. */
  protected session(): DbSession {
    const request = currentHandle() as DbSession | undefined;
    if (request !== undefined && !request.isEnded) return request.companion(this, this.#label);
    return (this.#background ??= runtime!.backgroundSession(`background work via ${this.#label}`));
  }

  /** Ends the current session (a released client's): its next use starts afresh. */
  protected endCurrentSession(): void {
    const request = currentHandle() as DbSession | undefined;
    const session = request?.dropCompanion(this) ?? this.#background;
    if (session === this.#background) this.#background = undefined;
    if (session !== undefined) runtime!.endSession(session);
  }

  protected run(config: unknown, values: unknown, callback: unknown, types: pg.CustomTypesConfig | undefined): Promise<pg.QueryResult> | undefined {
    if (typeof values === 'function') return this.run(config, undefined, values, types);
    const objectConfig = typeof config === 'object' && config !== null ? (config as pg.QueryConfig & { callback?: Callback; submit?: unknown }) : undefined;
    const done = (callback as Callback | undefined) ?? objectConfig?.callback;
    let promise: Promise<pg.QueryResult>;
    if (typeof objectConfig?.submit === 'function') promise = Promise.reject(unsupported('a pg-cursor, pg-query-stream or Query object'));
    else {
      const text = typeof config === 'string' ? config : objectConfig?.text;
      if (typeof text === 'string' && NEEDS_OWN_CONNECTION.test(text)) promise = Promise.reject(unsupported(`"${text.trim().split(/\s+/, 2).join(' ')}"`));
      else {
        const withTypes = types === undefined ? config : { ...(objectConfig ?? { text: config }), types: objectConfig?.types ?? types };
        const { callback: _ignored, ...plain } = (typeof withTypes === 'object' ? withTypes : {}) as { callback?: unknown };
        const query = typeof withTypes === 'string' ? withTypes : (plain as pg.QueryConfig);
        promise = this.session().query(query as string, values as unknown[] | undefined);
      }
    }
    return settle(promise, done);
  }
}

/** A connection's description as node-postgres reads it (its properties, PG* environment and defaults). */
const describe = (config: unknown): pg.Client => new pg.Client(config as pg.ClientConfig);

/** `new Client()`: a handle of its own; also what `pool.connect()` gives. */
class StandInClient extends Handle {
  readonly host!: string;
  readonly port!: number;
  readonly database: string | undefined;
  readonly user: string | undefined;
  readonly ssl: unknown;
  readonly connectionParameters: unknown;
  readonly readyForQuery = true;
  readonly secretKey = null;
  _connected = false;
  _connecting = false;
  _ending = false;
  _ended = false;
  _queryable = true;
  #types: pg.CustomTypesConfig | undefined;
  protected isEnded = false;

  constructor(config?: unknown, label = `pg Client #${++handleCount}`) {
    super(label);
    if (runtime?.adopts(config, 'Client') === false) return countConnections(new RealClient(config as pg.ClientConfig), 'end') as unknown as StandInClient;
    wantRequestContext();
    const described = describe(config);
    ({ host: this.host, port: this.port, database: this.database, user: this.user, ssl: this.ssl } = described);
    this.connectionParameters = (described as unknown as { connectionParameters: unknown }).connectionParameters;
  }

  get processID(): number | null {
    return runtime!.backendPid;
  }

  connect(callback?: Callback): Promise<void> | undefined {
    this._connecting = true;
    const ready = runtime!.whenReady().then(() => {
      this._connecting = false;
      this._connected = true;
      this.emit('connect');
    });
    return settle(ready, callback);
  }

  query(config: unknown, values?: unknown, callback?: unknown): Promise<pg.QueryResult> | undefined {
    if (this.isEnded) {
      const error = new Error('Client was closed and is not queryable');
      return settle(Promise.reject(error), (typeof values === 'function' ? values : callback) as Callback | undefined);
    }
    return this.run(config, values, callback, this.#types);
  }

  /** Closes nothing (the connection is the worker's); the handle is unusable afterwards, as a closed pg.Client is. */
  end(callback?: Callback): Promise<void> | undefined {
    if (!this.isEnded) {
      this.isEnded = this._ending = this._ended = true;
      this._queryable = false;
      this.endCurrentSession();
      process.nextTick(() => this.emit('end'));
    }
    return settle(Promise.resolve(), callback);
  }

  escapeIdentifier(value: string): string {
    return pg.escapeIdentifier(value);
  }

  escapeLiteral(value: string): string {
    return pg.escapeLiteral(value);
  }

  getTypeParser(oid: number, format?: 'text' | 'binary'): unknown {
    return (this.#types ?? pg.types).getTypeParser(oid, format);
  }

  setTypeParser(oid: number, formatOrParser: unknown, parser?: unknown): void {
    const overrides = (this.#types ??= new pg.TypeOverrides() as unknown as pg.CustomTypesConfig) as unknown as { setTypeParser(...args: unknown[]): void };
    overrides.setTypeParser(oid, formatOrParser, ...(parser === undefined ? [] : [parser]));
  }
}

/** A client `pool.connect()` gave: `release()` returns it, rolling back a transaction it left open. */
class StandInPoolClient extends StandInClient {
  readonly #pool: StandInPool;
  #isReleased = false;

  constructor(pool: StandInPool, label: string) {
    super(undefined, label);
    this.#pool = pool;
    this._connected = true;
  }

  acquired(): this {
    this.#isReleased = false;
    return this;
  }

  release(error?: Error | boolean): void {
    if (this.#isReleased) throw new Error('Release called on client which has already been released to the pool.');
    this.#isReleased = true;
    this.endCurrentSession();
    this.#pool.released(this, error !== undefined && error !== false);
  }
}

/** `new Pool()`: queries run on its own session per request; `connect()` hands out client handles. */
class StandInPool extends Handle {
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
    const label = `pg Pool #${++handleCount}`;
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

/** Counts the connections a foreign Pool/Client really opens (pcluster_db_foreign_clients). */
function countConnections<T extends EventEmitter>(emitter: T, closed: 'end' | 'remove'): T {
  if (closed === 'remove') {
    // A Pool: 'connect' and 'remove' come once per connection it opened.
    emitter.on('connect', () => runtime!.foreignConnected(1));
    emitter.on('remove', () => runtime!.foreignConnected(-1));
    return emitter;
  }
  // A Client ends ('end') whether or not it ever connected.
  let isOpen = false;
  emitter.on('connect', () => {
    isOpen = true;
    runtime!.foreignConnected(1);
  });
  emitter.on('end', () => {
    if (isOpen) runtime!.foreignConnected(-1);
    isOpen = false;
  });
  return emitter;
}

const RealClient = pg.Client;
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

/** Called once by the worker before the app loads. */
export function installPgCompatRuntime(worker: PgCompatRuntime): void {
  runtime = worker;
}
