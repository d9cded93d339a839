/**
 * The handles the app's own `pg` gives in a worker (SPEC §2.1): a Client (and the clients a Pool hands
 * out) with node-postgres' API that open no connection of their own. Their queries run on the worker's
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

export let runtime: PgCompatRuntime | undefined;
let handleCount = 0;

/** A name for the next Pool or Client handle, as the messages about it say. */
export const nextHandleLabel = (kind: string): string => `${kind} #${++handleCount}`;

/** The pool a client goes back to. */
export interface PoolOfClients {
  released(client: StandInPoolClient, isBroken: boolean): void;
}

/** Settles `promise` through a node-style callback when one is given, else returns it. */
export function settle<T>(promise: Promise<T>, callback: Callback | undefined): Promise<T> | undefined {
  if (callback === undefined) return promise;
  promise.then((value) => callback(null, value), (error: Error) => callback(error));
  return undefined;
}

/** A Pool or Client: the sessions its queries run in, per request. */
export abstract class Handle extends EventEmitter {
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
export class StandInClient extends Handle {
  readonly host!: string;
  readonly port!: number;
  readonly database: string | undefined;
  readonly user: string | undefined;
  readonly ssl: unknown;
  readonly connectionParameters: unknown;
  readonly readyForQuery = true;
  /** Where pg's protocol events would come from; libraries listen on it (Sequelize: 'parameterStatus'), nothing is emitted. */
  readonly connection = new EventEmitter();
  readonly secretKey = null;
  _connected = false;
  _connecting = false;
  _ending = false;
  _ended = false;
  _queryable = true;
  #types: pg.CustomTypesConfig | undefined;
  protected isEnded = false;

  constructor(config?: unknown, label = nextHandleLabel('pg Client')) {
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
export class StandInPoolClient extends StandInClient {
  readonly #pool: PoolOfClients;
  #isReleased = false;

  constructor(pool: PoolOfClients, label: string) {
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

/** Counts the connections a foreign Pool/Client really opens (pcluster_db_foreign_clients). */
export function countConnections<T extends EventEmitter>(emitter: T, closed: 'end' | 'remove'): T {
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

export const RealClient = pg.Client;

/** Called once by the worker before the app loads. */
export function installPgCompatRuntime(worker: PgCompatRuntime): void {
  runtime = worker;
}
