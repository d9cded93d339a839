// Contender 4: the "original recipe": node:cluster, one global pg.Client per worker and a
// `SELECT 1` before every request (reconnecting when it fails). Requests take turns on the
// client through a promise chain, so concurrent requests never share a statement or a transaction.
import pg from 'pg';
import { runCluster } from './cluster-main.mjs';
import { listen, randomId, routes, SQL, writeTransaction } from './workload.mjs';

async function connect() {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  client.on('error', () => {});
  await client.connect();
  return client;
}

runCluster(async () => {
  let client = await connect();
  let tail = Promise.resolve();
  /** Runs `use` with the pinged client once every earlier request is done with it. */
  const inTurn = (use) => {
    const turn = tail.then(async () => {
      try {
        await client.query('SELECT 1');
      } catch {
        client.end().catch(() => {});
        client = await connect();
      }
      return use(client);
    });
    tail = turn.catch(() => {});
    return turn;
  };
  await listen(
    routes({
      page: () =>
        inTurn(async (c) => [
          (await c.query(SQL.select, [randomId()])).rows[0],
          (await c.query(SQL.select, [randomId()])).rows[0],
          (await c.query(SQL.select, [randomId()])).rows[0],
        ]),
      write: () => inTurn(writeTransaction),
      nodb: () => inTurn(() => undefined),
    }),
  );
});
