import { expect } from 'chai';
import pg from 'pg';
import { ConnectionKeeper } from '@pcluster/worker-runtime/internal/connection-keeper';
import type { PlannedStatement } from '@pcluster/worker-runtime/internal/query-runner';
import { StatementPipeline, type SessionLike } from '@pcluster/worker-runtime/internal/statement-pipeline';

/** A statement node-postgres has begun to write (a Parse, no Sync) when it throws: the server will never say ReadyForQuery. */
class ThrowsMidWrite extends pg.Query {
  override submit = (connection: pg.Connection): Error | null => {
    (connection as unknown as { parse(query: { text: string; name: string }): void }).parse({ text: 'SELECT 1', name: '' });
    throw new Error('thrown while writing the statement');
  };
}

/**
 * StatementPipeline and ConnectionKeeper on a real connection: whatever throws inside node-postgres
 * half-way through writing a statement (pcluster refuses the configs known to do it before they
 * reach the driver) costs that statement and the connection, never the worker's later statements.
 */
describe('a statement that throws half-way through being written', () => {
  let keeper: ConnectionKeeper | undefined;
  afterEach(async () => {
    await keeper?.close();
  });

  it('fails alone: the connection is replaced and the next statement runs on a new one', async () => {
    const lost: (Error | undefined)[] = [];
    keeper = new ConnectionKeeper(
      {
        database: { connectionString: process.env['PCLUSTER_TEST_DATABASE_URL'], applicationName: 'pcluster-test-mid-write', session: {}, isConfigured: true },
        validateAfterMs: 60_000, validationTimeoutMs: 2_000, connectionMaxAgeMs: 0, keepaliveTimeoutMs: 60_000,
      },
      { lost: (error) => lost.push(error) },
    );
    await keeper.open();
    const pipeline = new StatementPipeline(keeper, { leaseTimeoutMs: 3_000, leakThresholdMs: 0, pipelineDepth: 32, keepaliveTimeoutMs: 60_000 });
    const session: SessionLike = { label: 'test', startedAt: Date.now(), isEnded: false, isTransactionLost: false, owner: null };
    type Run = PlannedStatement['run'];
    const backendPid: Run = (client, _inTx, done) => client.query('SELECT pg_backend_pid() AS pid', [], done);
    const run = <T>(statement: Run): Promise<T> => pipeline.submit<T>(session, { isBarrier: false, run: statement });
    const before = (await run<pg.QueryResult>(backendPid)).rows[0].pid as number;

    const failure = await run((client, _inTx, done) => client.query(new ThrowsMidWrite('SELECT 1', [], done))).then(() => undefined, (error: unknown) => error);
    expect((failure as Error | undefined)?.message).to.equal('thrown while writing the statement');
    expect(lost, 'the keeper was told the connection is gone').to.have.length(1);

    const after = (await run<pg.QueryResult>(backendPid)).rows[0].pid as number;
    expect(after, 'waited on the old connection for a ReadyForQuery that never comes (lease timeout)').to.be.a('number').and.not.equal(before);
  });
});
