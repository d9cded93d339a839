// The workload every HTTP contender serves, with the same SQL and the same responses:
//   /page   three primary-key selects, one after another (a "very simple page with few selects")
//   /write  a write transaction (UPDATE + INSERT)
//   /nodb   no database
// A contender supplies only how it runs the statements: page() → three rows, write().
import http from 'node:http';

export const ACCOUNT_ROWS = 10_000;

export const SQL = {
  select: 'SELECT id, name, balance FROM bench_accounts WHERE id = $1',
  update: 'UPDATE bench_accounts SET balance = balance + 1 WHERE id = $1',
  insert: 'INSERT INTO bench_history (account, delta) VALUES ($1, 1)',
};

export const randomId = () => 1 + Math.floor(Math.random() * ACCOUNT_ROWS);

const NAMES = new Map([[SQL.select, 'bench_select'], [SQL.update, 'bench_update'], [SQL.insert, 'bench_insert']]);

/** `client` (node-postgres) with the workload's parameterised statements sent as named prepared statements, BEGIN/COMMIT as they are. */
export const namedStatements = (client) => ({
  query: (text, values) => client.query(values === undefined ? text : { name: NAMES.get(text), text, values }),
});

/**
 * The request listener for the three routes; page(req) and write(req) get the request, and a failing
 * one answers a bare 500.
 * `nodb`, when given, runs before /nodb answers (the original recipe pings there too).
 */
export function routes({ page, write, nodb }) {
  const fail = (res) => {
    if (res.headersSent) return res.destroy();
    res.statusCode = 500;
    res.end();
  };
  const serve = async (req, res) => {
    if (req.url === '/page') {
      const rows = await page(req);
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify(rows));
    }
    if (req.url === '/write') {
      await write(req);
      return res.end('ok');
    }
    if (req.url === '/nodb') {
      if (nodb !== undefined) await nodb();
      return res.end('ok');
    }
    res.statusCode = 404;
    res.end();
  };
  return (req, res) => serve(req, res).catch(() => fail(res));
}

/** Listens on $PORT with `listener`; resolves once listening. */
export function listen(listener) {
  return new Promise((resolve) => http.createServer(listener).listen(Number(process.env.PORT), resolve));
}

/** The write: one UPDATE and one INSERT through `client` (anything with node-postgres' query(text, values)). */
export async function writeStatements(client) {
  await client.query(SQL.update, [randomId()]);
  await client.query(SQL.insert, [randomId()]);
}

/** BEGIN, the write, COMMIT on `client`; ROLLBACK when a statement fails. */
export async function writeTransaction(client) {
  await client.query('BEGIN');
  try {
    await writeStatements(client);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
