import pg, { type QueryConfig, type ResultBuilder } from 'pg';
import type { QueryCallback } from './query-runner.js';

/** node-postgres' Connection, as far as this file drives it (pg 8.23.1, pinned in the lockfile). */
interface WireConnection {
  readonly submittedNamedStatements: Record<string, string | undefined>;
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
  handleError(error: unknown, connection: WireConnection): void;
  _getRows(connection: WireConnection, rows: number | undefined): void;
}

const { prepareValue } = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } }).utils;

/**
 * A named statement, sent as node-postgres sends it (Parse once per connection, then Bind,
 * Describe, Execute, Sync) except when a value cannot be sent (a `toPostgres` that throws,
 * a BigInt or a cycle in a JSON value): node-postgres then closes the named statement on
 * the server but goes on counting it as prepared, so on a persistent connection every later
 * run of that query failed with "prepared statement does not exist" until a reconnect.
 * Here the run fails alone and the statement stays prepared.
 */
export class PreparedQuery extends pg.Query {
  /** node-postgres reads a query's own timeout from the object handed to client.query(). */
  readonly query_timeout: number | undefined;

  constructor(config: QueryConfig & { name: string; query_timeout?: number }, callback: QueryCallback) {
    // node-postgres calls it with null, not undefined, for success: QueryCallback's own type says so.
    super(config, callback as unknown as (error: Error | undefined, result: ResultBuilder) => void);
    this.query_timeout = config.query_timeout;
  }

  /** Called by node-postgres' submit() with the stream corked: everything written here leaves together. */
  prepare(connection: WireConnection): void {
    const self = this as unknown as QueryInternals;
    if (!self.hasBeenParsed(connection)) {
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
    connection.describe({ type: 'P', name: self.portal });
    self._getRows(connection, self.rows);
  }
}
