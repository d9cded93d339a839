// One worker of contenders 5 and 6: a pg.Pool({ max: 10 }) per process, kept open while idle. Run by node:cluster
// (cluster-pool.mjs) or by PM2 in cluster mode, which it tells it is listening ('ready': wait_ready).
import pg from 'pg';
import { listen, randomId, routes, SQL, writeTransaction } from './workload.mjs';

// idleTimeoutMillis: 0 keeps idle clients open. A busy server's pool never sits idle for the default 10 s,
// but a contender waiting for its turn does, and 20 backends closing at once stalled this 2-core machine
// for ~250 ms in whichever contender's window it fell (investigation log, item 20).
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10, idleTimeoutMillis: 0 });
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
