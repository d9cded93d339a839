// The one-statement-at-a-time ceiling: node:cluster workers, each with one persistent
// pg.Client and named prepared statements; statements take turns on it through a promise
// chain (a transaction takes one turn for all its statements). No supervisor, no validation,
// no metrics, no reconnect.
import pg from 'pg';
import { runCluster } from './cluster-main.mjs';
import { listen, namedStatements, randomId, routes, SQL, writeTransaction } from './workload.mjs';

runCluster(async () => {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  let tail = Promise.resolve();
  const inTurn = (use) => {
    const turn = tail.then(use);
    tail = turn.catch(() => {});
    return turn;
  };
  const prepared = namedStatements(client);
  const select = () => inTurn(() => prepared.query(SQL.select, [randomId()]));
  await listen(
    routes({
      page: async () => [(await select()).rows[0], (await select()).rows[0], (await select()).rows[0]],
      write: () => inTurn(() => writeTransaction(prepared)),
    }),
  );
});
