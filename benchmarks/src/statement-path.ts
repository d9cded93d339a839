import { ConnectionKeeper } from '@pcluster/worker-runtime/internal/connection-keeper';
import { DbSession } from '@pcluster/worker-runtime/internal/db-session';
import { QueryRunner } from '@pcluster/worker-runtime/internal/query-runner';
import { StatementPipeline } from '@pcluster/worker-runtime/internal/statement-pipeline';
import { WorkerMetrics } from '@pcluster/worker-runtime/internal/worker-metrics';

/** pcluster's statement path on one connection, wired as a worker wires it (pcluster's default flags, metrics). */
export interface StatementPath {
  readonly pipeline: StatementPipeline;
  readonly metrics: WorkerMetrics;
  openSession(label: string): DbSession;
  close(): Promise<void>;
}

/**
 * Opens the connection and wires the keeper, statement pipeline and runner around it: what the
 * in-process hot-path tool and the diagnostic contenders (`apps/hand-rolled-pcluster-*.mjs`) measure.
 */
export async function openStatementPath(connectionString: string, applicationName: string): Promise<StatementPath> {
  const metrics = new WorkerMetrics(1);
  const keeper = new ConnectionKeeper(
    { database: { connectionString, applicationName, session: {}, isConfigured: true }, validateAfterMs: 1_000, validationTimeoutMs: 1_000, connectionMaxAgeMs: 0, keepaliveTimeoutMs: 60_000 },
    {
      stateChanged: (state) => (metrics.connectionState = state),
      validated: (result) => metrics.countValidation(result),
      lost: () => pipeline.connectionLost(),
    },
  );
  const pipeline = new StatementPipeline(keeper, { leaseTimeoutMs: 5_000, leakThresholdMs: 10_000, pipelineDepth: 32, keepaliveTimeoutMs: 60_000 }, {
    written: (seconds, depth) => {
      metrics.leaseWait.observe(seconds);
      metrics.pipelineDepth.observe(depth);
    },
  });
  await keeper.open();
  const runner = new QueryRunner('auto');
  return { pipeline, metrics, openSession: (label) => new DbSession(pipeline, runner, label), close: () => keeper.close() };
}
