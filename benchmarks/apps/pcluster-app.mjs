// Contenders 1 and 2: the workload under pcluster, through `req.db` (the worker's one connection).
import { randomId, routes, SQL, writeStatements } from './workload.mjs';

export const handler = routes({
  page: async (req) => [
    (await req.db.query(SQL.select, [randomId()])).rows[0],
    (await req.db.query(SQL.select, [randomId()])).rows[0],
    (await req.db.query(SQL.select, [randomId()])).rows[0],
  ],
  write: (req) => req.db.transaction((tx) => writeStatements(tx)),
});
