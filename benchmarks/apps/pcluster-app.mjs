// Contenders 1 and 2: the workload under pcluster (`db` is the worker's one connection).
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
