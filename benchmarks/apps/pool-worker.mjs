// One worker of contenders 5 and 6: a pg.Pool({ max: 10 }) per process. Run by node:cluster
// (cluster-pool.mjs) or by PM2 in cluster mode, which it tells it is listening ('ready': wait_ready).
import pg from 'pg';
import { listen, randomId, routes, SQL, writeTransaction } from './workload.mjs';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
pool.on('error', () => {});

await listen(
  routes({
    page: async () => [
      (await pool.query(SQL.select, [randomId()])).rows[0],
      (await pool.query(SQL.select, [randomId()])).rows[0],
      (await pool.query(SQL.select, [randomId()])).rows[0],
    ],
    write: async () => {
      const client = await pool.connect();
      try {
        await writeTransaction(client);
      } finally {
        client.release();
      }
    },
  }),
);
process.send?.('ready');
