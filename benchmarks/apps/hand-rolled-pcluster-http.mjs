// Diagnostic contender (only when named in --contenders): `hand-rolled-pcluster-path` plus
// pcluster's per-request HTTP side: the worker runtime's WorkerHttpServer (DbSession per request
// as req.db, in-flight tracking, response metrics, 500/503 handling) in a plain node:cluster
// worker, without the rest of a pcluster worker (primary, IPC protocol, logging, default metrics).
// On /nodb it isolates what pcluster adds per request.
import { WorkerHttpServer } from '@pcluster/worker-runtime/internal/worker-http-server';
import { runCluster } from './cluster-main.mjs';
import { handler } from './pcluster-app.mjs';
import { openStatementPath } from '../dist/statement-path.js';

runCluster(async () => {
  const { pipeline, metrics, openSession } = await openStatementPath(process.env.DATABASE_URL, new URL(process.env.DATABASE_URL).searchParams.get('application_name'));
  // Nothing is logged on the measured paths; a handler failure would be, and is not expected here.
  const log = { warn() {}, error() {}, info() {} };
  const server = new WorkerHttpServer({ app: { kind: 'handler', listener: handler }, pipeline, openSession, metrics, log });
  await server.listen(Number(process.env.PORT), '127.0.0.1');
});
