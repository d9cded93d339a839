import pg, { type QueryConfig, type QueryResult } from 'pg';

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
 * is deallocated and prepared again, once, outside a transaction.
 */
export class QueryRunner {
  readonly #isAuto: boolean;
  /** Statement text → its prepared name, or how often it has been seen before it earned one. */
  readonly #autoNames = new Map<string, string | number>();

  constructor(prepare: 'off' | 'auto') {
    this.#isAuto = prepare === 'auto';
  }

  run(client: pg.Client, textOrConfig: string | QueryConfig, values: unknown[] | undefined): Promise<QueryResult> {
    const config = this.#configFor(textOrConfig, values);
    const result = client.query(config);
    // Only a named statement has a plan that DDL can make stale.
    return config.name === undefined ? result : result.catch((error: unknown) => this.#prepareAgain(client, config, error));
  }

  async #prepareAgain(client: pg.Client, config: QueryConfig, error: unknown): Promise<QueryResult> {
    if (!isStalePlan(error) || config.name === undefined || client.getTransactionStatus() !== 'I') throw error;
    delete (client.connection as unknown as StatementCache).parsedStatements[config.name];
    await client.query(`DEALLOCATE ${pg.escapeIdentifier(config.name)}`).catch(() => {});
    return client.query(config);
  }

  #configFor(textOrConfig: string | QueryConfig, values: unknown[] | undefined): QueryConfig {
    if (typeof textOrConfig !== 'string') return values === undefined ? textOrConfig : { ...textOrConfig, values };
    if (!this.#isAuto || values === undefined || values.length === 0) return { text: textOrConfig, values };
    const name = this.#autoName(textOrConfig);
    return name === undefined ? { text: textOrConfig, values } : { name, text: textOrConfig, values };
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
