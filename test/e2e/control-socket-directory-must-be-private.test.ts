import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CLI, fixture, spawnCluster } from '../support/cluster-process.js';

/** Runs a pcluster control command; resolves with its exit code and output whatever the code. */
function pcluster(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }));
  });
}

/** What a hostile local user would run: a socket that claims to be the cluster and answers every request "ok". */
async function impostor(socketPath: string): Promise<{ requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = net.createServer((socket) => {
    socket.on('data', (chunk) => {
      requests.push(chunk.toString());
      socket.end(`${JSON.stringify({ ok: true, message: 'stopping' })}\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('the control socket lives in a directory only its user can write (issue 27: socket takeover)', () => {
  let shared: string;
  beforeEach(() => {
    // A directory others may write to, as a shared checkout or /tmp project would be.
    shared = mkdtempSync(path.join(os.tmpdir(), 'pcluster-shared-'));
    chmodSync(shared, 0o777);
  });
  afterEach(() => rmSync(shared, { recursive: true, force: true }));

  it('pcluster stop refuses a socket in a world-writable .pcluster instead of obeying an impostor', async () => {
    const dir = path.join(shared, '.pcluster');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const socketPath = path.join(dir, 'app.sock');
    const fake = await impostor(socketPath);
    try {
      const result = await pcluster(['stop', '--control-socket', socketPath]);
      expect(result.code, result.stdout + result.stderr).to.equal(2);
      expect(result.stdout).to.equal('');
      expect(result.stderr.trim().split('\n')).to.have.length(1);
      expect(result.stderr).to.match(/^pcluster: control socket directory .*\.pcluster is mode 777, open to other users; .*--control-socket/);
      expect(fake.requests).to.deep.equal([]);
      for (const command of [['status'], ['reload'], ['scale', '2']]) {
        expect((await pcluster([...command, '--control-socket', socketPath])).code, command.join(' ')).to.equal(2);
      }
      expect(fake.requests).to.deep.equal([]);
    } finally {
      await fake.close();
    }
  });

  it('pcluster start refuses to put its socket there, naming the directory and the fix, before it starts anything', async () => {
    const dir = path.join(shared, '.pcluster');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const cluster = await spawnCluster(fixture('routes.mjs'), { workers: 1, args: ['--control-socket', path.join(dir, 'app.sock')] });
    const exit = await cluster.exited;
    expect(exit.code, cluster.stderr).to.equal(2);
    expect(cluster.stderr).to.match(/control socket directory .*\.pcluster is mode 777, open to other users/);
    expect(cluster.stdout).not.to.match(/workers ready/);
  });

  it('a .pcluster that is a symlink, or belongs to another user, is refused too', async () => {
    const elsewhere = path.join(shared, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, path.join(shared, '.pcluster'));
    const viaLink = await pcluster(['status', '--control-socket', path.join(shared, '.pcluster', 'app.sock')]);
    expect(viaLink.code).to.equal(2);
    expect(viaLink.stderr).to.match(/control socket directory .*\.pcluster is a symlink/);

    if (process.getuid?.() === 0) {
      // As root the test can be the other user: a private-looking directory owned by nobody.
      const owned = path.join(shared, 'owned');
      mkdirSync(owned, { mode: 0o700 });
      chownSync(owned, 65534, 65534);
      const result = await pcluster(['stop', '--control-socket', path.join(owned, 'app.sock')]);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.match(/control socket directory .*owned belongs to uid 65534, not to you \(uid 0\)/);
    }
  });
});
