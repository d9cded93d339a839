/**
 * Every node-postgres internal pcluster relies on, and nothing else (pg 8.23.1, pinned in the
 * lockfile; test/unit/pg-internals-contract.test.ts fails when an upgrade changes one of them).
 * The rest of the worker uses node-postgres' public API: Client({ pipeline: true }), query(),
 * getTransactionStatus(), Query objects as submittables.
 */
import pg, { type FieldDef, type QueryConfig, type ResultBuilder } from 'pg';
import type { QueryCallback } from './query-runner.js';

/** node-postgres' Connection, as far as this file drives it. */
interface WireConnection {
  readonly parsedStatements: Record<string, string | undefined>;
  readonly submittedNamedStatements: Record<string, string | undefined>;
  readonly stream: { destroy(): void; cork(): void; uncork(): void };
  parse(query: { text: string; name?: string; types?: unknown }): void;
  bind(config: { portal: string; statement?: string; values?: unknown[]; binary?: boolean; valueMapper: (value: unknown) => unknown }): void;
  describe(message: { type: 'P'; name: string }): void;
  sync(): void;
}

/** node-postgres' Query, as far as PreparedQuery reads or calls it. */
interface QueryInternals {
  readonly text: string;
  readonly name: string;
  readonly values?: unknown[];
  readonly types?: unknown;
  readonly binary?: boolean;
  readonly rows?: number;
  readonly portal: string;
  callback: unknown;
  hasBeenParsed(connection: WireConnection): boolean;
  handleRowDescription(message: RowDescription): void;
  handleCommandComplete(message: unknown, connection: WireConnection): void;
  handleError(error: unknown, connection: WireConnection): void;
  _getRows(connection: WireConnection, rows: number | undefined): void;
}

/** A RowDescription message as node-postgres' parser hands it to a query. */
interface RowDescription {
  readonly fields: FieldDef[];
}

/** node-postgres' Result, as far as PreparedQuery fills it in without a RowDescription. */
interface ResultInternals {
  fields: FieldDef[];
  _parsers: ((value: unknown) => unknown)[] | undefined;
  readonly _types: { getTypeParser(oid: number, format: string): (value: unknown) => unknown } | undefined;
  _prebuiltEmptyResultObject: object | null;
}

/** A statement's columns as its first described run left them in its Result. */
interface KnownColumns {
  readonly fields: FieldDef[];
  /** The row template Result.addFields builds (every column null), copied by each parseRow. */
  readonly emptyRow: object | null;
}

const queryMethods = pg.Query.prototype as unknown as QueryInternals;

/**
 * Per connection, per statement name: the columns a run of the named statement returns in
 * text format, or null when it returns none (an UPDATE without RETURNING), learnt from its
 * first run's Describe. PostgreSQL keeps them fixed while the statement lives: DDL that
 * would change them makes the run fail ("cached plan must not change result type") and the
 * statement is then parsed again, and described again.
 */
const rowDescriptions = new WeakMap<WireConnection, Map<string, KnownColumns | null>>();

function rowDescriptionsOf(connection: WireConnection): Map<string, KnownColumns | null> {
  let known = rowDescriptions.get(connection);
  if (known === undefined) rowDescriptions.set(connection, (known = new Map()));
  return known;
}

/** The config fields besides name, text and values that node-postgres' Query reads in its constructor. */
const PLAIN_ONLY = ['rows', 'types', 'queryMode', 'binary', 'portal', 'rowMode', 'callback'] as const;

/**
 * True when `config` says nothing node-postgres' Query reads besides name, text and values: then it can be
 * handed text and values instead. Handed a config object, node-postgres 8.23 first copies it through
 * getOwnPropertyDescriptors and defineProperties, ~20x the cost of the rest of its constructor
 * (measured in benchmarks/); handed text and values, it does not.
 */
export function isPlainConfig(config: QueryConfig): boolean {
  return PLAIN_ONLY.every((key) => (config as unknown as Record<string, unknown>)[key] === undefined);
}

const { prepareValue } = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } }).utils;

/**
 * A named statement, sent as node-postgres sends it (Parse once per connection, then Bind,
 * Describe, Execute, Sync) except when a value cannot be sent (a `toPostgres` that throws,
 * a BigInt or a cycle in a JSON value): node-postgres then closes the named statement on
 * the server but goes on counting it as prepared, so on a persistent connection every later
 * run of that query failed with "prepared statement does not exist" until a reconnect.
 * Here the run fails alone and the statement stays prepared.
 *
 * node-postgres also asks for the row description on every run (Describe): the server builds
 * it and the client parses it each time, for the same columns. Here a run asks only until one
 * has succeeded since the statement was parsed; later runs reuse what that one learnt (a tenth
 * of the worker's instructions for a 3-select page, counted with callgrind).
 */
export class PreparedQuery extends pg.Query {
  /** node-postgres reads a query's own timeout from the object handed to client.query(). */
  readonly query_timeout: number | undefined;
  /** The connection whose row description this run asks for and learns, while it runs. */
  #describedOn: WireConnection | undefined;
  #columns: KnownColumns | null = null;

  constructor(config: QueryConfig & { name: string; query_timeout?: number }, callback: QueryCallback) {
    // node-postgres calls it with null, not undefined, for success: QueryCallback's own type says so.
    const onDone = callback as unknown as (error: Error | undefined, result: ResultBuilder) => void;
    // A config with nothing but name, text and values (the timeout is read below) goes in as text and values, without the copy.
    const isPlain = isPlainConfig(config);
    super(isPlain ? config.text : config, isPlain ? config.values : onDone, isPlain ? onDone : undefined);
    if (isPlain) (this as unknown as { name: string }).name = config.name;
    this.query_timeout = config.query_timeout;
  }

  /** Called by node-postgres' submit() with the stream corked: everything written here leaves together. */
  prepare(connection: WireConnection): void {
    const self = this as unknown as QueryInternals;
    const isParsed = self.hasBeenParsed(connection);
    if (!isParsed) {
      connection.parse({ text: self.text, name: self.name, types: self.types });
      connection.submittedNamedStatements[self.name] = self.text;
    }
    try {
      connection.bind({ portal: self.portal, statement: self.name, values: self.values, binary: self.binary, valueMapper: prepareValue });
    } catch (error) {
      // Nothing of the Bind was written: the statement stays prepared (a Parse above still completes), Sync ends the turn.
      connection.sync();
      self.handleError(error, connection);
      // What the server answers to this turn (ParseComplete or a Parse error, then ReadyForQuery) still goes to this
      // query: it must neither report the failed run as a success nor emit an 'error' nobody listens to.
      self.callback = () => {};
      return;
    }
    // A binary run describes its columns in another format: it always asks.
    const known = isParsed && !self.binary ? rowDescriptionsOf(connection).get(self.name) : undefined;
    if (known === undefined) {
      connection.describe({ type: 'P', name: self.portal });
      this.#describedOn = self.binary ? undefined : connection;
    } else if (known !== null) {
      this.#useColumns(known);
    }
    self._getRows(connection, self.rows);
  }

  /**
   * What handleRowDescription does with a RowDescription, from the described run's: the columns (a copy, so that a
   * caller changing result.fields changes only its own), their type parsers looked up now (a parser set since then
   * applies), and the same empty-row template. Result.addFields builds that template afresh on every run through a
   * dictionary-mode object, and each fresh template sends parseRow's copy of it down V8's slow path.
   */
  #useColumns(known: KnownColumns): void {
    const result = (this as unknown as { _result: ResultInternals })._result;
    const fields = known.fields.slice();
    const types: ResultInternals['_types'] & object = result._types ?? (pg.types as unknown as ResultInternals['_types'] & object);
    const parsers = new Array<(value: unknown) => unknown>(fields.length);
    for (let i = 0; i < fields.length; i++) parsers[i] = types.getTypeParser(fields[i]!.dataTypeID, fields[i]!.format || 'text');
    result.fields = fields;
    result._parsers = parsers;
    result._prebuiltEmptyResultObject = known.emptyRow;
    const self = this as unknown as QueryInternals & { _accumulateRows: unknown; listeners(event: string): unknown[] };
    self._accumulateRows = self.callback || self.listeners('row').length === 0;
  }

  handleRowDescription(message: RowDescription): void {
    queryMethods.handleRowDescription.call(this, message);
    if (this.#describedOn !== undefined) {
      const result = (this as unknown as { _result: ResultInternals })._result;
      this.#columns = { fields: message.fields.slice(), emptyRow: result._prebuiltEmptyResultObject };
    }
  }

  /** The run succeeded: what it was told about its columns holds for every later run of the statement. */
  handleCommandComplete(message: unknown, connection: WireConnection): void {
    if (this.#describedOn !== undefined) rowDescriptionsOf(this.#describedOn).set((this as unknown as QueryInternals).name, this.#columns);
    queryMethods.handleCommandComplete.call(this, message, connection);
  }
}

function wireOf(client: pg.Client): WireConnection {
  return client.connection as unknown as WireConnection;
}

/** Makes node-postgres parse `name` again on its next run (after DDL made its plan stale and it was deallocated). */
export function forgetPreparedStatement(client: pg.Client, name: string): void {
  const wire = wireOf(client);
  delete wire.parsedStatements[name];
  delete wire.submittedNamedStatements[name];
}

/** Closes the client's socket at once, without the Terminate message client.end() waits to send. */
export function destroySocket(client: pg.Client): void {
  wireOf(client).stream.destroy();
}

/** Ends the client with a Terminate message; destroys its socket if that takes longer than `timeoutMs` (a peer gone silent). Never rejects. */
export async function endClient(client: pg.Client, timeoutMs: number): Promise<void> {
  const timer = setTimeout(() => destroySocket(client), timeoutMs);
  try {
    await client.end();
  } catch {
    // The connection was already gone; there is nothing left to close.
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Holds what is written on the client's socket until the event loop's check phase, so that the
 * statements of every request served in this turn leave in one write (and reach the server in one
 * read) instead of a system call each. node-postgres' own cork around each statement nests inside.
 */
export function corkUntilImmediate(client: pg.Client, uncorked: () => void): void {
  const { stream } = wireOf(client);
  stream.cork();
  setImmediate(() => {
    stream.uncork();
    uncorked();
  });
}

/**
 * An unnamed query sent through the extended protocol even without parameters (so it can be pipelined:
 * the extended protocol holds exactly one statement). Built from text and values and then switched,
 * because a config object with `queryMode` would be copied first (see isPlainConfig).
 */
export function extendedQuery(text: string, values: unknown[], callback: QueryCallback): pg.Query {
  const query = new pg.Query(text, values, callback as unknown as (error: Error | undefined, result: ResultBuilder) => void);
  (query as unknown as { queryMode: string }).queryMode = 'extended';
  return query;
}
