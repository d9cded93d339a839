import pg, { type FieldDef, type QueryConfig, type ResultBuilder } from 'pg';
import type { QueryCallback } from './query-runner.js';

/** node-postgres' Connection, as far as this file drives it (pg 8.23.1, pinned in the lockfile). */
interface WireConnection {
  readonly parsedStatements: Record<string, string | undefined>;
  readonly submittedNamedStatements: Record<string, string | undefined>;
  parse(query: { text: string; name?: string; types?: unknown }): void;
  bind(config: { portal: string; statement?: string; values?: unknown[]; binary?: boolean; valueMapper: (value: unknown) => unknown }): void;
  describe(message: { type: 'P'; name: string }): void;
  sync(): void;
}

/** node-postgres' Query, as far as PreparedQuery overrides or calls it. */
interface QueryInternals {
  readonly text: string;
  readonly name?: string;
  readonly values?: unknown[];
  readonly types?: unknown;
  readonly binary?: boolean;
  readonly rows?: number;
  readonly portal: string;
  callback: unknown;
  hasBeenParsed(connection: WireConnection): boolean;
  handleRowDescription(message: { fields: FieldDef[] }): void;
  handleCommandComplete(message: unknown, connection: WireConnection): void;
  handleError(error: unknown, connection: WireConnection): void;
  _getRows(connection: WireConnection, rows: number | undefined): void;
}

/** What a named statement's rows look like: its RowDescription's fields, or null when it returns none (NoData). */
type Description = readonly FieldDef[] | null;

const base = pg.Query.prototype as unknown as QueryInternals;
const { prepareValue } = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } }).utils;

/** Per connection (a reconnect starts afresh): each named statement's description, learnt from its first run. */
const descriptions = new WeakMap<WireConnection, Map<string, Description>>();

function descriptionsOf(connection: WireConnection): Map<string, Description> {
  let known = descriptions.get(connection);
  if (known === undefined) {
    known = new Map();
    descriptions.set(connection, known);
  }
  return known;
}

/**
 * A named statement run the way a persistent connection allows. node-postgres sends
 * Parse (once), Bind, Describe, Execute, Sync, so PostgreSQL describes the result again on
 * every run and the client parses that RowDescription again; the result of a prepared
 * statement cannot change shape without the server refusing it ("cached plan must not
 * change result type", which QueryRunner answers by preparing it again), so the
 * description of the first run serves every later one: Bind, Execute, Sync.
 *
 * It also keeps a prepared statement usable when a value cannot be sent (a `toPostgres`
 * that throws, a BigInt or a cycle in a JSON value): node-postgres closes the named
 * statement on the server then but still counts it as prepared, so every later run of that
 * query on the connection failed with "prepared statement does not exist".
 */
export class PreparedQuery extends pg.Query {
  /** node-postgres reads a query's own timeout from the object handed to client.query(). */
  readonly query_timeout: number | undefined;
  /** Where the description of this run goes, when this run asks the server for it. */
  #describesInto: Map<string, Description> | undefined;

  constructor(config: QueryConfig & { name: string; query_timeout?: number }, callback: QueryCallback) {
    // node-postgres calls it with null, not undefined, for success: QueryCallback's own type says so.
    super(config, callback as unknown as (error: Error | undefined, result: ResultBuilder) => void);
    this.query_timeout = config.query_timeout;
  }

  /** Called by node-postgres' submit() with the stream corked: everything written here leaves in one packet. */
  prepare(connection: WireConnection): void {
    const self = this as unknown as QueryInternals;
    const name = self.name as string;
    const known = descriptionsOf(connection);
    const isParsed = self.hasBeenParsed(connection);
    if (!isParsed) {
      known.delete(name);
      connection.parse({ text: self.text, name, types: self.types });
      connection.submittedNamedStatements[name] = self.text;
    }
    try {
      connection.bind({ portal: self.portal, statement: name, values: self.values, binary: self.binary, valueMapper: prepareValue });
    } catch (error) {
      // Nothing of the Bind was written: the statement stays prepared (a Parse above still completes), Sync ends the turn.
      connection.sync();
      self.handleError(error, connection);
      // What the server answers to this turn (ParseComplete or a Parse error, then ReadyForQuery) still goes to this
      // query: it must neither report the failed run as a success nor emit an 'error' nobody listens to.
      self.callback = () => {};
      return;
    }
    // Binary results and row-by-row portals keep node-postgres' own path: the description is per run there.
    const isReusable = self.binary !== true && self.rows === undefined;
    const description = isReusable ? known.get(name) : undefined;
    if (description === undefined) {
      if (isReusable) this.#describesInto = known;
      connection.describe({ type: 'P', name: self.portal });
    } else if (description !== null) {
      base.handleRowDescription.call(this, { fields: [...description] });
    }
    self._getRows(connection, self.rows);
  }

  handleRowDescription(message: { fields: FieldDef[] }): void {
    this.#describesInto?.set((this as unknown as QueryInternals).name as string, Object.freeze(message.fields.map((field) => Object.freeze(field))));
    this.#describesInto = undefined;
    base.handleRowDescription.call(this, message);
  }

  /** A described run that completes without a RowDescription returns no rows (the server answered NoData). */
  handleCommandComplete(message: unknown, connection: WireConnection): void {
    this.#describesInto?.set((this as unknown as QueryInternals).name as string, null);
    this.#describesInto = undefined;
    base.handleCommandComplete.call(this, message, connection);
  }
}
