// Diagnostic contender (only when named in --contenders): `hand-rolled-pcluster-path` plus
// pcluster's per-request HTTP side: the worker runtime's WorkerHttpServer (DbSession per request
// as req.db, in-flight tracking, response metrics, 500/503 handling) in a plain node:cluster
// worker, without the rest of a pcluster worker (primary, IPC protocol, logging, default metrics).
// On /nodb it isolates what pcluster adds per request.
import { ConnectionKeeper } from '@pcluster/worker-runtime/internal/connection-keeper';
import { DbSession } from '@pcluster/worker-runtime/internal/db-session';
import { QueryRunner } from '@pcluster/worker-runtime/internal/query-runner';
import { StatementQueue } from '@pcluster/worker-runtime/internal/statement-queue';
import { WorkerMetrics } from '@pcluster/worker-runtime/internal/worker-metrics';
import { WorkerHttpServer } from '@pcluster/worker-runtime/internal/worker-http-server';
import { runCluster } from './cluster-main.mjs';
import { randomId, routes, SQL, writeStatements } from './workload.mjs';

runCluster(async () => {
  const metrics = new WorkerMetrics(1);
  const keeper = new ConnectionKeeper(
    { database: { connectionString: process.env.DATABASE_URL, applicationName: 'pcluster:bench', session: {} }, validateAfterMs: 1_000, validationTimeoutMs: 1_000, connectionMaxAgeMs: 0 },
    { stateChanged: (state) => (metrics.connectionState = state), validated: (result) => metrics.countValidation(result) },
  );
  await keeper.open();
  const queue = new StatementQueue(keeper, { leaseTimeoutMs: 5_000, leakThresholdMs: 0 }, { leaseWaited: (seconds) => metrics.leaseWait.observe(seconds) });
  const runner = new QueryRunner('auto');
  const listener = routes({
    page: async (req) => [
      (await req.db.query(SQL.select, [randomId()])).rows[0],
      (await req.db.query(SQL.select, [randomId()])).rows[0],
      (await req.db.query(SQL.select, [randomId()])).rows[0],
    ],
    write: (req) => req.db.transaction((tx) => writeStatements(tx)),
  });
  // Nothing is logged on the measured paths; a handler failure would be, and is not expected here.
  const log = { warn() {}, error() {}, info() {} };
  const server = new WorkerHttpServer({ app: { kind: 'handler', listener }, queue, openSession: (label) => new DbSession(queue, runner, label), metrics, log });
  await server.listen(Number(process.env.PORT), '127.0.0.1');
});
