// Contender 3: a new PostgreSQL connection for every request (connect → queries → end), node:cluster.
import pg from 'pg';
import { runCluster } from './cluster-main.mjs';
import { listen, randomId, routes, SQL, writeTransaction } from './workload.mjs';

async function withConnection(use) {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  client.on('error', () => {});
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => {});
  }
}

runCluster(() =>
  listen(
    routes({
      page: () =>
        withConnection(async (client) => [
          (await client.query(SQL.select, [randomId()])).rows[0],
          (await client.query(SQL.select, [randomId()])).rows[0],
          (await client.query(SQL.select, [randomId()])).rows[0],
        ]),
      write: () => withConnection(writeTransaction),
    }),
  ),
);
