// The pipeline ceiling: node:cluster workers, each with one pg.Client({ pipeline: true }) shared by all
// its requests, named prepared statements. A statement outside a transaction goes on the wire at once,
// behind whatever is in flight. A transaction waits until nothing is in flight and keeps the connection
// to itself until it ends: a BEGIN in the pipeline takes every statement written after it into its
// transaction. No supervisor, no validation, no metrics, no reconnect.
import pg from 'pg';
import { runCluster } from './cluster-main.mjs';
import { listen, namedStatements, randomId, routes, SQL, writeTransaction } from './workload.mjs';

/**
 * Shared turns run together; an exclusive turn starts once no shared one is in flight and none starts
 * until it ends. Turns that have to wait start in arrival order.
 */
function turnstile() {
  let inFlight = 0;
  let isExclusive = false;
  const waiting = [];
  const canStart = (exclusive) => !isExclusive && (!exclusive || inFlight === 0);
  const run = (exclusive, use) => {
    if (exclusive) isExclusive = true;
    else inFlight += 1;
    return use().finally(() => {
      if (exclusive) isExclusive = false;
      else inFlight -= 1;
      while (waiting.length > 0 && canStart(waiting[0].exclusive)) waiting.shift().start();
    });
  };
  const take = (exclusive, use) =>
    waiting.length === 0 && canStart(exclusive)
      ? run(exclusive, use)
      : new Promise((resolve) => waiting.push({ exclusive, start: () => resolve(run(exclusive, use)) }));
  return { shared: (use) => take(false, use), exclusive: (use) => take(true, use) };
}

runCluster(async () => {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL, pipeline: true });
  await client.connect();
  const turns = turnstile();
  const prepared = namedStatements(client);
  const select = () => turns.shared(() => prepared.query(SQL.select, [randomId()]));
  await listen(
    routes({
      page: async () => [(await select()).rows[0], (await select()).rows[0], (await select()).rows[0]],
      write: () => turns.exclusive(() => writeTransaction(prepared)),
    }),
  );
});
