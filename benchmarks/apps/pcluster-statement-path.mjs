// What the diagnostic contenders (hand-rolled-pcluster-path, hand-rolled-pcluster-http) take from
// pcluster: its statement path on one connection, wired as a pcluster worker wires it.
import { ConnectionKeeper } from '@pcluster/worker-runtime/internal/connection-keeper';
import { DbSession } from '@pcluster/worker-runtime/internal/db-session';
import { QueryRunner } from '@pcluster/worker-runtime/internal/query-runner';
import { StatementQueue } from '@pcluster/worker-runtime/internal/statement-queue';
import { WorkerMetrics } from '@pcluster/worker-runtime/internal/worker-metrics';

/** Opens the connection; resolves with the queue, the metrics and a DbSession factory (pcluster's defaults, `--prepare auto`). */
export async function openStatementPath(connectionString) {
  const metrics = new WorkerMetrics(1);
  const keeper = new ConnectionKeeper(
    { database: { connectionString, applicationName: 'pcluster:bench', session: {} }, validateAfterMs: 1_000, validationTimeoutMs: 1_000, connectionMaxAgeMs: 0 },
    { stateChanged: (state) => (metrics.connectionState = state), validated: (result) => metrics.countValidation(result) },
  );
  await keeper.open();
  const queue = new StatementQueue(keeper, { leaseTimeoutMs: 5_000, leakThresholdMs: 0 }, { leaseWaited: (seconds) => metrics.leaseWait.observe(seconds) });
  const runner = new QueryRunner('auto');
  return { queue, metrics, openSession: (label) => new DbSession(queue, runner, label) };
}
