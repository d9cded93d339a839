// Diagnostic contender (only when named in --contenders): the hand-rolled ceiling's node:cluster
// worker with pcluster's statement path in place of its bare pg.Client: the worker runtime's
// ConnectionKeeper, StatementQueue, `--prepare auto` QueryRunner and metrics, one DbSession per
// request as `req.db`, ended when the response closes. It sits between `hand-rolled` and
// `pcluster-prepare-auto`, so a gap between those two splits into statement path vs the rest
// of the pcluster worker (HTTP wrapper, primary, logging, IPC).
import { ConnectionKeeper } from '@pcluster/worker-runtime/internal/connection-keeper';
import { DbSession } from '@pcluster/worker-runtime/internal/db-session';
import { QueryRunner } from '@pcluster/worker-runtime/internal/query-runner';
import { StatementQueue } from '@pcluster/worker-runtime/internal/statement-queue';
import { WorkerMetrics } from '@pcluster/worker-runtime/internal/worker-metrics';
import { runCluster } from './cluster-main.mjs';
import { listen, randomId, routes, SQL, writeStatements } from './workload.mjs';

runCluster(async () => {
  const metrics = new WorkerMetrics(1);
  const keeper = new ConnectionKeeper(
    { database: { connectionString: process.env.DATABASE_URL, applicationName: 'pcluster:bench', session: {} }, validateAfterMs: 1_000, validationTimeoutMs: 1_000, connectionMaxAgeMs: 0 },
    { stateChanged: (state) => (metrics.connectionState = state), validated: (result) => metrics.countValidation(result) },
  );
  await keeper.open();
  const queue = new StatementQueue(keeper, { leaseTimeoutMs: 5_000, leakThresholdMs: 0 }, { leaseWaited: (seconds) => metrics.leaseWait.observe(seconds) });
  const runner = new QueryRunner('auto');
  const inner = routes({
    page: async (req) => [
      (await req.db.query(SQL.select, [randomId()])).rows[0],
      (await req.db.query(SQL.select, [randomId()])).rows[0],
      (await req.db.query(SQL.select, [randomId()])).rows[0],
    ],
    write: (req) => req.db.transaction((tx) => writeStatements(tx)),
  });
  await listen((req, res) => {
    const session = new DbSession(queue, runner, `${req.method} ${req.url}`);
    req.db = session;
    res.once('close', () => queue.endSession(session));
    return inner(req, res);
  });
});
