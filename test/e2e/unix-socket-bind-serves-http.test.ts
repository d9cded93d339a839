import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fixture, spawnCluster, startCluster } from '../support/cluster-process.js';
import { useTempDir } from '../support/temp-dir.js';

/** GET `route` over the Unix socket at `socketPath`. */
function getOverSocket(socketPath: string, route: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // A new connection each time (no keep-alive agent): node:cluster hands connections to the workers in turn.
    http.get({ socketPath, path: route, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('--bind unix:<path>', () => {
  const tempDir = useTempDir('pcluster-bind');

  it('serves HTTP on the socket from every worker, replaces a stale socket file, and removes the file at stop', async () => {
    const socketPath = path.join(tempDir(), 'shop.sock');
    // A socket file left behind by a process that was killed: nobody listens on it.
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`], { stdio: 'ignore' });
    expect(statSync(socketPath).isSocket()).to.equal(true);

    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2, port: null, args: ['--bind', `unix:${socketPath}`] });
    expect(cluster.logs().find((line) => line.msg?.startsWith('all 2 workers ready'))?.['url']).to.equal(`unix:${socketPath}`);
    const stat = statSync(socketPath);
    expect(stat.isSocket()).to.equal(true);
    expect(stat.mode & 0o777).to.equal(0o660);
    const workerPids = new Set<number>();
    for (let i = 0; i < 20 && workerPids.size < 2; i++) {
      const { status, body } = await getOverSocket(socketPath, '/pid');
      expect(status).to.equal(200);
      workerPids.add((JSON.parse(body) as { workerPid: number }).workerPid);
    }
    expect(workerPids.size, 'both workers answer on the shared socket').to.equal(2);
    expect((await cluster.stop()).code).to.equal(0);
    expect(existsSync(socketPath), 'socket file removed at stop').to.equal(false);
  });

  it('a socket somebody listens on is refused (exit 3 naming --bind) and left alone', async () => {
    const socketPath = path.join(tempDir(), 'taken.sock');
    const other = net.createServer();
    await new Promise<void>((resolve) => other.listen(socketPath, resolve));
    try {
      const cluster = await spawnCluster(fixture('routes.mjs'), { workers: 1, port: null, args: ['--bind', `unix:${socketPath}`] });
      expect((await cluster.exited).code).to.equal(3);
      expect(cluster.stderr).to.include(`cannot listen on unix:${socketPath} (--bind): another process listens there`);
      expect(statSync(socketPath).isSocket()).to.equal(true);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('anything but unix:<path>, or --bind with --port: exit 2 naming the accepted form', async () => {
    const hostPort = await spawnCluster(fixture('routes.mjs'), { port: null, args: ['--bind', '127.0.0.1:8000'] });
    expect((await hostPort.exited).code).to.equal(2);
    expect(hostPort.stderr.trim()).to.match(/^pcluster: --bind: "127\.0\.0\.1:8000" is not valid; expected unix:<path>/);
    const both = await spawnCluster(fixture('routes.mjs'), { args: ['--bind', 'unix:/tmp/x.sock'] });
    expect((await both.exited).code).to.equal(2);
    expect(both.stderr.trim()).to.match(/^pcluster: --bind unix:\/tmp\/x\.sock and --port both say where to serve; give only one$/);
  });
});
