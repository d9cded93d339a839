// A diagnostic, not an alternative: the least a Node worker can do to serve the workload
// with one connection and one statement in flight, so that what no Node worker can reach on
// this machine shows (investigation log, item 21). node:cluster workers; node-postgres only connects,
// authenticates and prepares the statements, then lets go of the socket: every statement after
// that is Bind/Execute/Sync written by hand and its reply read by hand (no driver), and HTTP
// is a raw TCP server that reads the request line and writes a fixed response head (no parser).
// Statements take turns on the connection in arrival order, the next one written as soon as the
// previous one's ReadyForQuery arrives, as node-postgres does. No validation, no reconnect, no metrics.
import net from 'node:net';
import pg from 'pg';
import { runCluster } from './cluster-main.mjs';
import { randomId, SQL } from './workload.mjs';

const STATEMENTS = { select: SQL.select, update: SQL.update, insert: SQL.insert, begin: 'BEGIN', commit: 'COMMIT' };
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);
const EXECUTE = Buffer.from([0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0]);

/** Bind (unnamed portal, text parameters and results) + Execute + Sync of statement `name` with `values`. */
function bindExecuteSync(name, values) {
  const params = values.map((v) => Buffer.from(String(v)));
  const length = 4 + 1 + name.length + 1 + 2 + 2 + params.reduce((sum, p) => sum + 4 + p.length, 0) + 2;
  const bind = Buffer.allocUnsafe(1 + length);
  let at = bind.writeUInt8(0x42, 0);
  at = bind.writeInt32BE(length, at);
  at = bind.writeUInt8(0, at);
  at += bind.write(name, at);
  at = bind.writeUInt8(0, at);
  at = bind.writeInt16BE(0, at);
  at = bind.writeInt16BE(params.length, at);
  for (const p of params) {
    at = bind.writeInt32BE(p.length, at);
    at += p.copy(bind, at);
  }
  bind.writeInt16BE(0, at);
  return Buffer.concat([bind, EXECUTE, SYNC]);
}

/** The connection after node-postgres has handed it over: statements in turn, replies parsed by hand. */
function rawConnection(socket) {
  const pending = [];
  let running = null;
  let buffered = Buffer.alloc(0);
  let rows = [];
  let error = null;
  const send = () => {
    if (running !== null || pending.length === 0) return;
    running = pending.shift();
    socket.write(running.message);
  };
  socket.removeAllListeners('data');
  socket.on('data', (chunk) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    let at = 0;
    while (buffered.length - at >= 5) {
      const type = buffered[at];
      const end = at + 1 + buffered.readInt32BE(at + 1);
      if (end > buffered.length) break;
      if (type === 0x44) {
        // DataRow: int16 count, then per column int32 length + bytes (text format).
        const row = [];
        let field = at + 7;
        for (let i = buffered.readInt16BE(at + 5); i > 0; i--) {
          const n = buffered.readInt32BE(field);
          row.push(n < 0 ? null : buffered.toString('utf8', field + 4, field + 4 + n));
          field += 4 + Math.max(n, 0);
        }
        rows.push(row);
      } else if (type === 0x45) {
        error = new Error('statement failed');
      } else if (type === 0x5a) {
        const { done } = running;
        const outcome = [error, rows];
        running = null;
        rows = [];
        error = null;
        send();
        done(...outcome);
      }
      at = end;
    }
    buffered = at === buffered.length ? Buffer.alloc(0) : buffered.subarray(at);
  });
  return (name, values) =>
    new Promise((resolve, reject) => {
      pending.push({ message: bindExecuteSync(name, values), done: (failure, result) => (failure ? reject(failure) : resolve(result)) });
      send();
    });
}

const HEAD = (type, length) => `HTTP/1.1 200 OK\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n\r\n`;

runCluster(async () => {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  // Prepared by running each once inside a transaction that is rolled back (prepared statements outlive it);
  // COMMIT last, outside any transaction, where it only warns.
  for (const name of ['begin', 'select', 'update', 'insert']) await client.query({ name, text: STATEMENTS[name], values: name === 'begin' ? [] : [1] });
  await client.query('ROLLBACK');
  await client.query({ name: 'commit', text: STATEMENTS.commit, values: [] });
  const run = rawConnection(client.connection.stream);
  const select = async () => {
    const [[id, name, balance]] = await run('select', [randomId()]);
    return { id: Number(id), name, balance };
  };
  const write = async () => {
    await run('begin', []);
    await run('update', [randomId()]);
    await run('insert', [randomId()]);
    await run('commit', []);
  };
  const respond = async (socket, path) => {
    if (path === '/page') {
      const body = JSON.stringify([await select(), await select(), await select()]);
      socket.write(HEAD('application/json', Buffer.byteLength(body)) + body);
    } else if (path === '/write') {
      await write();
      socket.write(HEAD('text/plain', 2) + 'ok');
    } else if (path === '/nodb') socket.write(HEAD('text/plain', 2) + 'ok');
    else socket.write('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
  };
  const server = net.createServer({ noDelay: true }, (socket) => {
    let text = '';
    // wrk sends one request at a time per connection; requests are answered in order all the same.
    let turn = Promise.resolve();
    socket.setEncoding('latin1');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      text += chunk;
      let end;
      while ((end = text.indexOf('\r\n\r\n')) >= 0) {
        const path = text.slice(text.indexOf(' ') + 1, text.indexOf(' ', text.indexOf(' ') + 1));
        text = text.slice(end + 4);
        turn = turn.then(() => respond(socket, path)).catch(() => socket.destroy());
      }
    });
  });
  await new Promise((resolve) => server.listen(Number(process.env.PORT), resolve));
});
