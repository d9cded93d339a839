import { expect } from 'chai';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, spawnCluster, startCluster, fixture } from '../support/cluster-process.js';
import { useAdminClient, clusterBackends } from '../support/database.js';
import { getJson, metricValue } from '../support/http.js';
import { waitFor } from '../support/wait-for.js';

/** Sends raw bytes to the HTTP port and returns whatever comes back before the socket closes. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', () => resolve(answer));
    socket.setTimeout(5_000, () => socket.destroy());
  });
}

describe('bad input and hostile conditions', () => {
  const admin = useAdminClient();

  it('malformed HTTP (bad request line, oversized headers) is answered 400/431 and never crashes the worker', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1 });
    const before = (await getJson(`${cluster.url}/pid`)).body['workerPid'];
    expect(await rawExchange(cluster.port, 'THIS IS NOT HTTP\r\n\r\n')).to.match(/^HTTP\/1\.1 400/);
    expect(await rawExchange(cluster.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`)).to.match(/^HTTP\/1\.1 431/);
    expect(await rawExchange(cluster.port, 'GET / HTTP/1.1\r\nContent-Length: nope\r\n\r\n')).to.match(/^HTTP\/1\.1 400/);
    expect((await getJson(`${cluster.url}/pid`)).body['workerPid'], 'the same worker still serves').to.equal(before);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('a client that disconnects mid-transaction: the transaction is rolled back and the handler\'s later statements do not commit half of it', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1 });
    const tag = `abandoned-${Date.now()}`;
    const request = http.get(`${cluster.url}/two-inserts?tag=${tag}&gapMs=800`);
    request.on('error', () => {});
    await waitFor(async () => {
      const { rows } = await admin().query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE $1 AND state LIKE 'idle in transaction%'", [`pcluster:${cluster.name}:%`]);
      return rows[0].n === 1;
    }, 10_000, 'the first insert');
    request.destroy();
    await waitFor(async () => metricValue(await (await fetch(`${cluster.metricsUrl}/metrics`)).text(), 'pcluster_db_rollbacks_total') === 1, 10_000, 'the rollback');
    await new Promise((resolve) => setTimeout(resolve, 1_200)); // past the handler's pause, when it tries its second insert
    const { rows } = await admin().query('SELECT count(*)::int AS n FROM pcluster_test_items WHERE tag = $1', [tag]);
    expect(rows[0].n, 'neither insert was committed').to.equal(0);
    expect((await getJson(`${cluster.url}/in-transaction`)).body['inTransaction']).to.equal(false);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('a query config node-postgres cannot write fails that query alone, with a clear error; the connection serves on', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1, args: ['--lease-timeout', '2s'] });
    const before = (await getJson(`${cluster.url}/pid`)).body['backendPid'];
    const expected = {
      name: /statement name, not number/,
      text: /SQL as a string in text, not number/,
      'empty-name': /statement name, not an empty string/,
      cursor: /cannot run a pg-cursor, a pg-query-stream/,
      rows: /query config with rows/,
      timeout: /query_timeout.*statement_timeout/,
    };
    for (const [kind, message] of Object.entries(expected)) {
      const { body } = await getJson(`${cluster.url}/bad-query?kind=${kind}`, { signal: AbortSignal.timeout(10_000) });
      expect(body['code'], kind).to.equal('PCLUSTER_BAD_QUERY');
      expect(body['message'], kind).to.match(message);
      const after = await getJson(`${cluster.url}/pid`, { signal: AbortSignal.timeout(10_000) });
      expect(after.status, `a query after ${kind}`).to.equal(200);
      expect(after.body['backendPid'], `the same connection after ${kind}`).to.equal(before);
    }
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('a control socket left behind by a killed primary does not block the next start', async () => {
    const first = await startCluster(fixture('routes.mjs'), { workers: 1 });
    first.child.kill('SIGKILL');
    await first.exited;
    // Its worker notices the lost primary, drains and closes its connection.
    await waitFor(async () => (await clusterBackends(admin(), first.name)).length === 0, 15_000, 'the orphaned worker to leave');
    const second = await startCluster(fixture('routes.mjs'), { workers: 1, name: first.name });
    expect((await getJson(`${second.url}/pid`)).status).to.equal(200);
    expect((await second.stop()).code).to.equal(0);
  });

  it('the control socket refuses another OS user, and the metrics server listens on 127.0.0.1 only by default', async function () {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1 });
    const socketPath = path.join(REPO_ROOT, '.pcluster', `${cluster.name}.sock`);
    if (process.getuid?.() === 0) {
      const attempt = spawn(process.execPath, ['-e', `require('net').connect(${JSON.stringify(socketPath)}).on('connect', () => { console.log('connected'); process.exit(0) }).on('error', (e) => { console.log(e.code); process.exit(0) })`], { uid: 65534, gid: 65534, cwd: '/' });
      let output = '';
      attempt.stdout.on('data', (chunk) => (output += chunk));
      await new Promise((resolve) => attempt.on('exit', resolve));
      expect(output.trim()).to.equal('EACCES');
    }
    const external = Object.values(os.networkInterfaces()).flat().find((address) => address?.family === 'IPv4' && !address.internal)?.address;
    if (external !== undefined) {
      const reached = await new Promise<boolean>((resolve) => {
        const socket = net.connect(cluster.metricsPort, external, () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });
      expect(reached, `metrics reachable on ${external}`).to.equal(false);
    }
    expect((await fetch(`${cluster.metricsUrl}/healthz`)).status).to.equal(200);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
