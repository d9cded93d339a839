import pg, { type QueryConfig, type QueryResult } from 'pg';
import { isPlainConfig, PreparedQuery } from './prepared-query.js';

/** node-postgres' completion callback: `error` is null (or undefined) when the statement succeeded. */
export type QueryCallback = (error: Error | null | undefined, result?: QueryResult) => void;

/** SQLSTATE 0A000 with this text: a cached plan went stale because DDL changed a table's row type. */
const STALE_PLAN = 'cached plan must not change result type';
/** Distinct statement texts `--prepare auto` will keep prepared per connection; later ones run unnamed. */
const MAX_AUTO_PREPARED = 1_000;

interface StatementCache {
  readonly parsedStatements: Record<string, string>;
}

function isStalePlan(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return code === '0A000' && typeof message === 'string' && message.includes(STALE_PLAN);
}

/**
 * Runs one query on the connection: with `--prepare auto` a parameterised text seen twice
 * becomes a named prepared statement; a named statement whose plan went stale after DDL
 * is deallocated and prepared again, once, outside a transaction. Named statements run as
 * PreparedQuery: a value that cannot be sent fails its run and leaves the statement prepared.
 */
export class QueryRunner {
  readonly #isAuto: boolean;
  /** Statement text → its prepared name, or how often it has been seen before it earned one. */
  readonly #autoNames = new Map<string, string | number>();

  constructor(prepare: 'off' | 'auto') {
    this.#isAuto = prepare === 'auto';
  }

  /**
   * Runs the statement and calls `done` once with its outcome. node-postgres' callback form,
   * not its promise form: the promise form costs two promises per statement, and every promise
   * is paid for again by the AsyncLocalStorage hooks behind `import { db }` (benchmarks/RESULTS.md).
   */
  run(client: pg.Client, textOrConfig: string | QueryConfig, values: unknown[] | undefined, done: QueryCallback): void {
    if (typeof textOrConfig === 'string') {
      const name = this.#isAuto && values !== undefined && values.length > 0 ? this.#autoName(textOrConfig) : undefined;
      // As text and values, not a config object: node-postgres copies a config object before reading it (isPlainConfig).
      if (name !== undefined) this.#runNamed(client, { name, text: textOrConfig, values }, done);
      else client.query(textOrConfig, values ?? [], done);
      return;
    }
    const config = values === undefined ? textOrConfig : { ...textOrConfig, values };
    // Only a named statement has a plan that DDL can make stale.
    if (config.name !== undefined) this.#runNamed(client, config as QueryConfig & { name: string }, done);
    // node-postgres reads a query's own timeout from the config: only a config without one can go in as text and values.
    else if (isPlainConfig(config) && (config as { query_timeout?: number }).query_timeout === undefined) client.query(config.text, config.values ?? [], done);
    else client.query(config, done);
  }

  #runNamed(client: pg.Client, named: QueryConfig & { name: string }, done: QueryCallback): void {
    client.query(
      new PreparedQuery(named, (error, result) => {
        if (error && isStalePlan(error) && client.getTransactionStatus() === 'I') this.#prepareAgain(client, named, done);
        else done(error, result);
      }),
    );
  }

  #prepareAgain(client: pg.Client, config: QueryConfig & { name: string }, done: QueryCallback): void {
    delete (client.connection as unknown as StatementCache).parsedStatements[config.name];
    // Whether DEALLOCATE succeeds or not, the statement is prepared again under its name.
    client.query({ text: `DEALLOCATE ${pg.escapeIdentifier(config.name)}` }, () => client.query(new PreparedQuery(config, done)));
  }

  #autoName(text: string): string | undefined {
    const known = this.#autoNames.get(text);
    if (typeof known === 'string') return known;
    if (known === undefined) {
      if (this.#autoNames.size < MAX_AUTO_PREPARED * 4) this.#autoNames.set(text, 1);
      return undefined;
    }
    if (this.#preparedCount >= MAX_AUTO_PREPARED) return undefined;
    const name = `pcluster_auto_${++this.#preparedCount}`;
    this.#autoNames.set(text, name);
    return name;
  }

  #preparedCount = 0;
}
