import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { CLI, fixture } from '../support/cluster-process.js';
import { isAlive, runCli, useDaemons } from '../support/daemon.js';
import { useTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';

describe('pcluster start --daemon, --pid, --log-file and pcluster logs', () => {
  const tempDir = useTempDir('pcluster-daemon');
  const startDaemon = useDaemons();
  /** A registry of this test's own, so other clusters on the machine do not show. */
  const registry = (): NodeJS.ProcessEnv => ({ XDG_RUNTIME_DIR: path.join(tempDir(), 'run') });

  it('returns once the cluster serves; logs prints and follows its lines across a SIGUSR1 reopen; the pid file lives as long as the primary', async () => {
    const cwd = path.join(tempDir(), 'app-dir');
    mkdirSync(cwd);
    const daemon = await startDaemon(fixture('prints-each-request.mjs'), { cwd, name: 'bg', env: registry() });
    expect(daemon.start.code, daemon.start.stderr).to.equal(0);
    expect(daemon.start.stdout).to.match(/bg is running in the background \(pid \d+\)/);
    // Ready when the command returned: no polling before the first request.
    expect((await fetch(`${daemon.url}/first`)).status).to.equal(200);
    const pid = daemon.pid!;
    expect(isAlive(pid)).to.equal(true);
    expect((await runCli(['status', '--json', '--name', 'bg'], cwd, registry())).stdout).to.include(`"pid": ${pid}`);

    // A second start on the same pid file is refused before anything runs.
    const second = await runCli(['start', fixture('prints-each-request.mjs'), '--name', 'bg2', '--pid', daemon.pidFile], cwd, registry());
    expect(second.code).to.equal(2);
    expect(second.stderr).to.match(new RegExp(`--pid .*bg\\.pid: pcluster pid ${pid} is running`));

    const logFile = path.join(cwd, '.pcluster', 'bg.log');
    await waitFor(() => readFileSync(logFile, 'utf8').includes('request /first'), 10_000, 'the worker\'s line in the log file');
    const last = await runCli(['logs', '--name', 'bg', '--lines', '3'], cwd, registry());
    expect(last.code).to.equal(0);
    expect(last.stdout.trimEnd().split('\n')).to.have.length(3);
    expect(last.stdout).to.include('request /first');

    const follower = spawn(process.execPath, [CLI, 'logs', '-f', '--name', 'bg', '--lines', '1'], { cwd, env: { ...process.env, ...registry() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follower.stdout.setEncoding('utf8').on('data', (chunk: string) => (followed += chunk));
    try {
      await waitFor(() => followed.includes('request /first'), 15_000, 'logs -f to print the last line');
      await fetch(`${daemon.url}/before-rotation`);
      await waitFor(() => followed.includes('request /before-rotation'), 10_000, 'logs -f to print a new line');

      // logrotate: rename, then SIGUSR1; the next lines go to a new file at the same path.
      renameSync(logFile, `${logFile}.1`);
      process.kill(pid, 'SIGUSR1');
      await waitFor(() => existsSync(logFile), 10_000, 'a new log file');
      await fetch(`${daemon.url}/after-rotation`);
      await waitFor(() => readFileSync(logFile, 'utf8').includes('request /after-rotation'), 10_000, 'the new line in the new file');
      expect(readFileSync(`${logFile}.1`, 'utf8')).to.include('request /before-rotation').and.not.include('request /after-rotation');
      await waitFor(() => followed.includes('request /after-rotation'), 10_000, 'logs -f to follow into the new file');
    } finally {
      follower.kill('SIGINT');
    }

    expect((await runCli(['stop', '--name', 'bg'], cwd, registry())).code).to.equal(0);
    await waitFor(() => !isAlive(pid), 30_000, 'the daemon to stop');
    expect(existsSync(daemon.pidFile), 'pid file removed at stop').to.equal(false);
  });

  it('exits with the primary\'s status and its error when the cluster cannot start', async () => {
    const daemon = await startDaemon(fixture('throws-at-load.mjs'), { cwd: tempDir(), name: 'broken', env: registry() });
    expect(daemon.start.code).to.equal(3);
    expect(daemon.start.stderr).to.include('broken did not start (exit 3)').and.include('missing SETTING_X');
    expect(existsSync(daemon.pidFile)).to.equal(false);
  });
});
