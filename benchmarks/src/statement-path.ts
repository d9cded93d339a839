import { ConnectionKeeper } from '@pcluster/worker-runtime/internal/connection-keeper';
import { DbSession } from '@pcluster/worker-runtime/internal/db-session';
import { QueryRunner } from '@pcluster/worker-runtime/internal/query-runner';
import { StatementQueue } from '@pcluster/worker-runtime/internal/statement-queue';
import { WorkerMetrics } from '@pcluster/worker-runtime/internal/worker-metrics';

/** pcluster's statement path on one connection, wired as a worker wires it (pcluster's defaults, `--prepare auto`, metrics). */
export interface StatementPath {
  readonly queue: StatementQueue;
  readonly metrics: WorkerMetrics;
  openSession(label: string): DbSession;
  close(): Promise<void>;
}

/**
 * Opens the connection and wires the keeper, statement queue and runner around it: what the
 * in-process hot-path tool and the diagnostic contenders (`apps/hand-rolled-pcluster-*.mjs`) measure.
 */
export async function openStatementPath(connectionString: string, applicationName: string): Promise<StatementPath> {
  const metrics = new WorkerMetrics(1);
  const keeper = new ConnectionKeeper(
    { database: { connectionString, applicationName, session: {} }, validateAfterMs: 1_000, validationTimeoutMs: 1_000, connectionMaxAgeMs: 0 },
    { stateChanged: (state) => (metrics.connectionState = state), validated: (result) => metrics.countValidation(result) },
  );
  await keeper.open();
  const queue = new StatementQueue(keeper, { leaseTimeoutMs: 5_000, leakThresholdMs: 10_000 }, { leaseWaited: (seconds) => metrics.leaseWait.observe(seconds) });
  const runner = new QueryRunner('auto');
  return { queue, metrics, openSession: (label) => new DbSession(queue, runner, label), close: () => keeper.close() };
}
