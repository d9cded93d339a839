import { expect } from 'chai';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fixture, spawnCluster, startCluster, type ClusterProcess } from '../support/cluster-process.js';
import { useTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';

const read = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((line) => line !== '') : []);
const get = (cluster: ClusterProcess, route: string, headers: Record<string, string> = {}): Promise<string> => fetch(`${cluster.url}${route}`, { headers }).then((r) => r.text());

describe('--access-log', () => {
  const tempDir = useTempDir('pcluster-access-log');

  it('writes one combined-format line per request, with the duration, and reopens the file on SIGUSR1', async () => {
    const file = path.join(tempDir(), 'access.log');
    const cluster = await spawnCluster(fixture('routes.mjs'), { workers: 2, logFormat: 'pretty', args: ['--access-log', file] });
    await waitFor(() => cluster.stdout.includes('workers ready') || !cluster.isRunning, 30_000, 'all workers ready');
    const body = await get(cluster, '/pid', { referer: 'http://example.com/from', 'user-agent': 'pcluster-test "quoted"' });
    await get(cluster, '/no-such-route');
    await waitFor(() => read(file).length === 2, 10_000, 'two access-log lines');
    const [first, second] = read(file);
    const combined = /^(\S+) - - \[(\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000)\] "GET (\S+) HTTP\/1\.1" (\d{3}) (\d+) "([^"]*)" "([^"]*)" (\d+\.\d{6})$/;
    const line = combined.exec(first!);
    expect(line, first).not.to.equal(null);
    expect(line!.slice(3, 8)).to.deep.equal(['/pid', '200', String(Buffer.byteLength(body)), 'http://example.com/from', 'pcluster-test \\x22quoted\\x22']);
    expect(line![1]).to.match(/^(::ffff:)?127\.0\.0\.1$/);
    expect(combined.exec(second!)?.slice(3, 5), second).to.deep.equal(['/no-such-route', '404']);

    // logrotate: the file is moved away, SIGUSR1 makes the primary open a new one under the old name.
    renameSync(file, `${file}.1`);
    cluster.child.kill('SIGUSR1');
    await waitFor(async () => {
      await get(cluster, '/pid');
      return read(file).length > 0;
    }, 10_000, 'a line in the reopened file');
    expect(read(`${file}.1`)).to.have.length(2);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('with --log-format json, writes JSON lines with worker, pid, method, path, status, bytes and duration to the log stream (-)', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2, args: ['--access-log', '-'] });
    const body = await get(cluster, '/pid');
    const { workerPid } = JSON.parse(body) as { workerPid: number };
    const access = await cluster.waitForLog((entry) => entry.msg === 'access', 10_000);
    expect(access).to.include({ pid: workerPid, method: 'GET', path: '/pid', status: 200, bytes: Buffer.byteLength(body) });
    expect(access['worker']).to.be.oneOf([1, 2]);
    expect(access['duration']).to.be.a('number').within(0, 30);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('a file that cannot be opened: exit 2 naming it', async () => {
    const missing = path.join(tempDir(), 'no-such-dir', 'access.log');
    const cluster = await spawnCluster(fixture('routes.mjs'), { args: ['--access-log', missing] });
    expect((await cluster.exited).code).to.equal(2);
    expect(cluster.stderr.trim()).to.equal(`pcluster: --access-log: cannot open ${missing} (ENOENT); give a file in a directory that exists and is writable, or - for the log stream`);
  });
});
