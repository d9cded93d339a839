// The same workload under pcluster through `import { db }`, which on Node 20 costs an
// AsyncLocalStorage context per request (promise hooks on every promise in the worker).
import { db } from '@pcluster/worker-runtime';
import { randomId, routes, SQL, writeStatements } from './workload.mjs';

export const handler = routes({
  page: async () => [
    (await db.query(SQL.select, [randomId()])).rows[0],
    (await db.query(SQL.select, [randomId()])).rows[0],
    (await db.query(SQL.select, [randomId()])).rows[0],
  ],
  write: () => db.transaction((tx) => writeStatements(tx)),
});
