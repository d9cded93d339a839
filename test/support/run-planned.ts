import type pg from 'pg';
import type { QueryRunner } from '@pcluster/worker-runtime/internal/query-runner';

/** Runs one query through `runner` on `client` as the worker's pipeline would (outside a transaction unless told). */
export function runPlanned(
  runner: QueryRunner, client: pg.Client, query: pg.QueryConfig | string, values?: unknown[], isInTransaction = false,
): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) =>
    runner.plan(query, values).run(client, isInTransaction, (error, result) => (error ? reject(error) : resolve(result as pg.QueryResult))),
  );
}
