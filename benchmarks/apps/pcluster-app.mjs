// The benchmark workload under pcluster: the same routes every contender serves.
//   /page   three primary-key selects (a "very simple page with few selects")
//   /write  a write transaction
//   /nodb   no database
import { db } from '@pcluster/worker-runtime';

const ROWS = 10_000;
const id = () => 1 + Math.floor(Math.random() * ROWS);

export async function handler(req, res) {
  if (req.url === '/page') {
    const a = await db.query('SELECT id, name, balance FROM bench_accounts WHERE id = $1', [id()]);
    const b = await db.query('SELECT id, name, balance FROM bench_accounts WHERE id = $1', [id()]);
    const c = await db.query('SELECT id, name, balance FROM bench_accounts WHERE id = $1', [id()]);
    res.setHeader('content-type', 'application/json');
    return res.end(JSON.stringify([a.rows[0], b.rows[0], c.rows[0]]));
  }
  if (req.url === '/write') {
    await db.transaction(async (tx) => {
      await tx.query('UPDATE bench_accounts SET balance = balance + 1 WHERE id = $1', [id()]);
      await tx.query('INSERT INTO bench_history (account, delta) VALUES ($1, 1)', [id()]);
    });
    return res.end('ok');
  }
  if (req.url === '/nodb') return res.end('ok');
  res.statusCode = 404;
  res.end();
}
