import { expect } from 'chai';
import type pg from 'pg';
import { QueryRunner } from '@pcluster/worker-runtime/internal/query-runner';
import { adminClient } from '../support/database.js';
import { runPlanned } from '../support/run-planned.js';

/**
 * QueryRunner on a real connection: a named statement run with a value node-postgres cannot
 * serialise fails that run only. (End to end, through a worker: prepare-auto-prepares-repeated-queries.)
 */
describe('a value that cannot be sent to a named prepared statement', () => {
  let client: pg.Client;
  beforeEach(async () => {
    client = await adminClient({ pipeline: true });
  });
  afterEach(async () => {
    await client.end();
  });

  const run = (runner: QueryRunner, query: pg.QueryConfig | string, values?: unknown[]): Promise<pg.QueryResult> => runPlanned(runner, client, query, values);
  const unsendable = { toPostgres: () => { throw new Error('cannot send this value'); } };
  const failureOf = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (error: unknown) => error);

  for (const when of ['before the statement is prepared', 'after it is prepared'] as const) {
    it(`fails its own run and leaves the statement usable (${when})`, async () => {
      const runner = new QueryRunner('off');
      const config = { name: 'unsendable_doc', text: 'SELECT $1::jsonb AS doc' };
      if (when === 'after it is prepared') await run(runner, { ...config, values: [{ a: 1 }] });
      expect(((await failureOf(run(runner, { ...config, values: [unsendable] }))) as Error | undefined)?.message).to.equal('cannot send this value');
      expect((await run(runner, { ...config, values: [{ a: 2 }] })).rows, 'node-postgres had closed the statement: "prepared statement does not exist"').to.deep.equal([{ doc: { a: 2 } }]);
      expect(client.getTransactionStatus()).to.equal('I');
    });
  }

  it('with a statement that does not parse either: one error, and the connection goes on', async () => {
    const runner = new QueryRunner('off');
    const failure = await failureOf(run(runner, { name: 'unsendable_broken', text: 'SELEKT $1', values: [unsendable] }));
    expect((failure as Error | undefined)?.message).to.equal('cannot send this value');
    expect((await run(runner, { name: 'unsendable_after', text: 'SELECT $1::int AS n', values: [7] })).rows).to.deep.equal([{ n: 7 }]);
  });
});
