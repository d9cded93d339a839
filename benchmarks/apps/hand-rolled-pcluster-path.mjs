// Diagnostic contender (only when named in --contenders): the hand-rolled ceiling's node:cluster
// worker with pcluster's statement path in place of its bare pg.Client: the worker runtime's
// ConnectionKeeper, StatementPipeline, `--prepare auto` QueryRunner and metrics, one DbSession per
// request as `req.db`, ended when the response closes. It sits between `hand-rolled-pipeline` and
// `pcluster`, so a gap between those two splits into statement path vs the rest of the pcluster
// worker (HTTP wrapper, primary, logging, IPC).
import { runCluster } from './cluster-main.mjs';
import { handler } from './pcluster-app.mjs';
import { openStatementPath } from '../dist/statement-path.js';
import { listen } from './workload.mjs';

runCluster(async () => {
  const { pipeline, openSession } = await openStatementPath(process.env.DATABASE_URL, new URL(process.env.DATABASE_URL).searchParams.get('application_name'));
  await listen((req, res) => {
    const session = openSession(`${req.method} ${req.url}`);
    req.db = session;
    res.once('close', () => pipeline.endSession(session));
    return handler(req, res);
  });
});
