// Postgres.js (`postgres` 3.4) in node:cluster workers, `max: $POSTGRES_MAX` connections each: 1 is
// TechEmpower's reference Node entry, 10 its default. It prepares statements and pipelines the queries
// of concurrent requests on a connection by default; `sql.begin` reserves a connection for a transaction.
// The tagged templates below send exactly the statements of SQL in workload.mjs.
import postgres from 'postgres';
import { runCluster } from './cluster-main.mjs';
import { listen, randomId, routes } from './workload.mjs';

runCluster(async () => {
  const sql = postgres(process.env.DATABASE_URL, { max: Number(process.env.POSTGRES_MAX) });
  const select = async () => (await sql`SELECT id, name, balance FROM bench_accounts WHERE id = ${randomId()}`)[0];
  await listen(
    routes({
      page: async () => [await select(), await select(), await select()],
      write: () =>
        sql.begin(async (tx) => {
          await tx`UPDATE bench_accounts SET balance = balance + 1 WHERE id = ${randomId()}`;
          await tx`INSERT INTO bench_history (account, delta) VALUES (${randomId()}, 1)`;
        }),
    }),
  );
});
