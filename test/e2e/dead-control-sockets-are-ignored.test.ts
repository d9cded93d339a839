import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { CLI, fixture, startCluster } from '../support/cluster-process.js';
import { useTempDir } from '../support/temp-dir.js';

/** Runs a pcluster control command in `cwd`; resolves with its exit code and output whatever the code. */
function pcluster(args: readonly string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }));
  });
}

/** What a SIGKILLed primary leaves behind: a socket file nobody listens on. */
async function deadSocket(socketPath: string): Promise<void> {
  const listener = spawn(process.execPath, ['-e', 'require("net").createServer().listen(process.argv[1], () => console.log("up"))', socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => listener.stdout.once('data', () => resolve()));
  const exited = new Promise((resolve) => listener.once('exit', resolve));
  listener.kill('SIGKILL');
  await exited;
}

describe('control sockets nobody listens on (a killed primary\'s)', () => {
  const tempDir = useTempDir('pcluster-dead-sockets');

  it('are ignored and removed by status and stop: the one live cluster is found, a dead --name says none runs', async () => {
    const dir = path.join(tempDir(), '.pcluster');
    mkdirSync(dir, { mode: 0o700 });
    await deadSocket(path.join(dir, 'killed.sock'));
    await deadSocket(path.join(dir, 'killed-too.sock'));
    expect(existsSync(path.join(dir, 'killed.sock'))).to.equal(true);
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1, name: 'live', args: ['--control-socket', path.join(dir, 'live.sock')] });

    const status = await pcluster(['status'], tempDir());
    expect(status.code, status.stderr).to.equal(0);
    expect(status.stdout).to.match(/live/);
    expect(existsSync(path.join(dir, 'killed.sock')), 'the dead socket is removed').to.equal(false);

    await deadSocket(path.join(dir, 'killed.sock'));
    const named = await pcluster(['stop', '--name', 'killed'], tempDir());
    expect(named.code).to.equal(1);
    expect(named.stderr).to.match(/^pcluster: cannot reach the control socket .*killed\.sock: no pcluster is running there/);
    expect(existsSync(path.join(dir, 'killed.sock'))).to.equal(false);

    expect((await pcluster(['stop'], tempDir())).stdout).to.match(/stopping/);
    expect((await cluster.exited).code).to.equal(0);
  });
});
