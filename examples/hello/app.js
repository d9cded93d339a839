// The pcluster demo: a guestbook. Every worker keeps one PostgreSQL connection and shares
// it, one statement at a time, between the requests it serves.
//   GET  /            the last 10 entries, and which worker/backend served you
//   POST /sign?name=  add an entry (in a transaction)
//   GET  /health      no database needed
import { db } from '@pcluster/worker-runtime';

export async function setup({ log, workerId }) {
  // Every worker runs setup at the same time: an advisory lock keeps their DDL from racing.
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['guestbook-setup']);
    await tx.query(`CREATE TABLE IF NOT EXISTS guestbook (
      id bigserial PRIMARY KEY,
      name text NOT NULL,
      signed_at timestamptz NOT NULL DEFAULT now()
    )`);
  });
  log.info({ workerId }, 'guestbook table ready');
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body, null, 2)}\n`);
}

export async function handler(req, res) {
  const url = new URL(req.url, 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/') {
    const entries = await db.query({
      name: 'latest-entries',
      text: 'SELECT id, name, signed_at FROM guestbook ORDER BY id DESC LIMIT 10',
    });
    const backend = await db.query('SELECT pg_backend_pid() AS pid');
    return json(res, 200, { worker: process.pid, backendPid: backend.rows[0].pid, entries: entries.rows });
  }
  if (req.method === 'POST' && url.pathname === '/sign') {
    const name = url.searchParams.get('name')?.trim();
    if (!name) return json(res, 400, { error: 'add ?name=you' });
    const entry = await db.transaction(async (tx) => {
      const { rows } = await tx.query('INSERT INTO guestbook (name) VALUES ($1) RETURNING id, name, signed_at', [name]);
      return rows[0];
    });
    return json(res, 201, entry);
  }
  if (url.pathname === '/health') return json(res, 200, { ok: true });
  return json(res, 404, { error: 'try GET /, POST /sign?name=you or GET /health' });
}
