import { expect } from 'chai';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fixture } from '../support/cluster-process.js';
import { isAlive, runCli, useDaemons } from '../support/daemon.js';
import { useTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';

interface Listed {
  readonly name: string;
  readonly pid: number;
  readonly cwd: string;
  readonly workersReady: number;
  readonly workersTotal: number;
}

describe('pcluster ls', () => {
  const tempDir = useTempDir('pcluster-ls');
  const startDaemon = useDaemons();

  it('lists the clusters started from two directories, from a third, and drops one that was killed', async () => {
    // A registry of this test's own ($XDG_RUNTIME_DIR/pcluster), so other clusters on the machine do not show.
    const env = { XDG_RUNTIME_DIR: path.join(tempDir(), 'run') };
    const [dirA, dirB, elsewhere] = ['a', 'b', 'elsewhere'].map((dir) => path.join(tempDir(), dir)) as [string, string, string];
    for (const dir of [dirA, dirB, elsewhere]) mkdirSync(dir);
    const [alpha, beta] = await Promise.all([
      startDaemon(fixture('prints-each-request.mjs'), { cwd: dirA, name: 'alpha', workers: 1, env }),
      startDaemon(fixture('prints-each-request.mjs'), { cwd: dirB, name: 'beta', workers: 1, env }),
    ]);
    expect(alpha.start.code, alpha.start.stderr).to.equal(0);
    expect(beta.start.code, beta.start.stderr).to.equal(0);

    const listed = JSON.parse((await runCli(['ls', '--json'], elsewhere, env)).stdout) as Listed[];
    expect(listed.map(({ name, pid, cwd, workersReady, workersTotal }) => ({ name, pid, cwd, workersReady, workersTotal }))).to.have.deep.members([
      { name: 'alpha', pid: alpha.pid, cwd: dirA, workersReady: 1, workersTotal: 1 },
      { name: 'beta', pid: beta.pid, cwd: dirB, workersReady: 1, workersTotal: 1 },
    ]);
    const table = (await runCli(['ls'], elsewhere, env)).stdout.trimEnd().split('\n');
    expect(table[0]).to.match(/^name\s+pid\s+workers\s+uptime\s+cwd\s+log$/);
    expect(table.slice(1).map((row) => row.split(/\s+/).slice(0, 3).join(' ')).sort()).to.deep.equal([`alpha ${alpha.pid} 1/1`, `beta ${beta.pid} 1/1`]);

    // Killed outright, beta cannot deregister: ls finds it dead and removes its entry.
    process.kill(-beta.pid!, 'SIGKILL');
    await waitFor(() => !isAlive(beta.pid!), 10_000, 'beta to die');
    const after = JSON.parse((await runCli(['ls', '--json'], elsewhere, env)).stdout) as Listed[];
    expect(after.map((c) => c.name)).to.deep.equal(['alpha']);
    expect(readdirSync(path.join(env.XDG_RUNTIME_DIR, 'pcluster'))).to.deep.equal([`${alpha.pid}.json`]);

    expect((await runCli(['stop', '--name', 'alpha'], dirA, env)).code).to.equal(0);
    await waitFor(() => !isAlive(alpha.pid!), 30_000, 'alpha to stop');
    expect((await runCli(['ls'], elsewhere, env)).stdout).to.match(/^no pcluster is running for this user/);
  });
});
