import pg, { type QueryConfig, type QueryResult } from 'pg';
import { extendedQuery, forgetPreparedStatement, isPlainConfig, PreparedQuery } from './pg-internals.js';
import { statementKind, type StatementKind } from './statement-kind.js';

/** node-postgres' completion callback: `error` is null (or undefined) when the statement succeeded. */
export type QueryCallback = (error: Error | null | undefined, result?: QueryResult) => void;

/** One query, ready for the pipeline: whether it must be written alone (a barrier, SPEC §3), and how to run it. */
export interface PlannedStatement {
  readonly isBarrier: boolean;
  /** Writes the statement on `client` and calls `done` exactly once with its outcome. */
  run(client: pg.Client, isInTransaction: boolean, done: QueryCallback): void;
}

/** SQLSTATE 0A000 with this text: a cached plan went stale because DDL changed a table's row type. */
const STALE_PLAN = 'cached plan must not change result type';
/** Distinct statement texts `--prepare auto` will keep prepared per connection; later ones run unnamed. */
const MAX_AUTO_PREPARED = 1_000;
/** Distinct texts remembered (kind, sightings); past that, a new text is classified on every run. */
const MAX_KNOWN_TEXTS = MAX_AUTO_PREPARED * 4;

/** What the runner remembers of one SQL text. */
interface KnownText {
  readonly kind: StatementKind;
  /** Its prepared name under `--prepare auto`, once it has been seen twice. */
  name: string | undefined;
  isSeen: boolean;
}

function isStalePlan(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return code === '0A000' && typeof message === 'string' && message.includes(STALE_PLAN);
}

/**
 * Plans and runs queries on the worker's connection. A query is a barrier when it can open or end a
 * transaction, or when it goes through the simple protocol (which may carry several statements); a
 * single parameterless statement that cannot touch the transaction is sent through the extended
 * protocol instead, so that it pipelines. With `--prepare auto` a text seen twice becomes a named
 * prepared statement; a named statement whose plan went stale after DDL is prepared again and run
 * once more, outside a transaction.
 */
export class QueryRunner {
  readonly #isAuto: boolean;
  readonly #texts = new Map<string, KnownText>();
  #preparedCount = 0;

  constructor(prepare: 'off' | 'auto') {
    this.#isAuto = prepare === 'auto';
  }

  /** Plans `db.query(textOrConfig, values)`; the config is already known to be runnable (DbSession checks it). */
  plan(textOrConfig: string | QueryConfig, values: unknown[] | undefined): PlannedStatement {
    const config = typeof textOrConfig === 'string' ? undefined : values === undefined ? textOrConfig : { ...textOrConfig, values };
    const text = config === undefined ? (textOrConfig as string) : config.text;
    const params = config === undefined ? values : config.values;
    const known = this.#know(text);
    const hasParams = params !== undefined && params.length > 0;
    const isExtended = hasParams || config?.name !== undefined || (config as { queryMode?: string } | undefined)?.queryMode === 'extended';
    if (known.kind === 'transaction-control' || (!isExtended && known.kind === 'other')) {
      return { isBarrier: true, run: (client, _inTx, done) => (config === undefined ? client.query(text, params ?? [], done) : client.query(config, done)) };
    }
    if (config?.name !== undefined) return { isBarrier: false, run: (client, inTx, done) => this.#runNamed(client, config as QueryConfig & { name: string }, inTx, done) };
    const isPlain = config === undefined || isPlainConfig(config);
    const name = this.#isAuto && isPlain ? this.#autoName(known) : undefined;
    if (name !== undefined) return { isBarrier: false, run: (client, inTx, done) => this.#runNamed(client, { name, text, values: params ?? [] }, inTx, done) };
    // As text and values, not a config object: node-postgres copies a config object before reading it (isPlainConfig).
    if (isPlain) return { isBarrier: false, run: (client, _inTx, done) => client.query(extendedQuery(text, params ?? [], done)) };
    return { isBarrier: false, run: (client, _inTx, done) => client.query({ ...config, queryMode: 'extended' } as QueryConfig, done) };
  }

  #runNamed(client: pg.Client, named: QueryConfig & { name: string }, isInTransaction: boolean, done: QueryCallback): void {
    client.query(
      new PreparedQuery(named, (error, result) => {
        if (error && isStalePlan(error) && !isInTransaction) this.#prepareAgain(client, named, done);
        else done(error, result);
      }),
    );
  }

  #prepareAgain(client: pg.Client, config: QueryConfig & { name: string }, done: QueryCallback): void {
    forgetPreparedStatement(client, config.name);
    // Whether DEALLOCATE succeeds or not, the statement is prepared again under its name; both are on the wire
    // before anything written later, so a concurrent run of the same statement sees the new plan.
    client.query(`DEALLOCATE ${pg.escapeIdentifier(config.name)}`, () => {});
    client.query(new PreparedQuery(config, done));
  }

  #know(text: string): KnownText {
    let known = this.#texts.get(text);
    if (known === undefined) {
      known = { kind: statementKind(text), name: undefined, isSeen: false };
      if (this.#texts.size < MAX_KNOWN_TEXTS) this.#texts.set(text, known);
    }
    return known;
  }

  #autoName(known: KnownText): string | undefined {
    if (known.name !== undefined) return known.name;
    if (!known.isSeen) {
      known.isSeen = true;
      return undefined;
    }
    if (this.#preparedCount >= MAX_AUTO_PREPARED) return undefined;
    known.name = `pcluster_auto_${++this.#preparedCount}`;
    return known.name;
  }
}
