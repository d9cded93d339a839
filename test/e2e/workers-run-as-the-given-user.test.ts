import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fixture, spawnCluster, startCluster } from '../support/cluster-process.js';
import { getJson } from '../support/http.js';
import { clusterStatus } from '../support/status.js';
import { useTempDir } from '../support/temp-dir.js';

/** The real, effective, saved and filesystem uid of a process, from /proc. */
const uids = (pid: number): number[] => /^Uid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!.trim().split(/\s+/).map(Number);
/** nobody's uid as this host's passwd names it. */
const nobodyUid = (): number => Number(readFileSync('/etc/passwd', 'utf8').split('\n').find((line) => line.startsWith('nobody:'))!.split(':')[2]);

describe('--user / --group', () => {
  const tempDir = useTempDir('pcluster-user');

  it('runs the workers as that user while the primary stays root, and they serve', async function () {
    // Switching users needs root; these machines run the tests as root, others cannot check this.
    if (process.getuid?.() !== 0) this.skip();
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2, args: ['--user', 'nobody'] });
    const { status, body } = await getJson(`${cluster.url}/pid`);
    expect(status).to.equal(200);
    expect(body['backendPid']).to.be.a('number');
    const workers = (await clusterStatus(cluster)).workers;
    expect(workers).to.have.length(2);
    for (const worker of workers) expect(uids(worker.pid!), `worker ${worker.slot}`).to.deep.equal(Array(4).fill(nobodyUid()));
    expect(uids(cluster.pid)).to.deep.equal([0, 0, 0, 0]);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('an unknown user or group: exit 2 naming it', async () => {
    const user = await spawnCluster(fixture('routes.mjs'), { args: ['--user', 'no-such-user-pcluster'] });
    expect((await user.exited).code).to.equal(2);
    expect(user.stderr.trim()).to.match(/^pcluster: --user no-such-user-pcluster: no such user on this host/);
    const group = await spawnCluster(fixture('routes.mjs'), { args: ['--group', 'no-such-group-pcluster'] });
    expect((await group.exited).code).to.equal(2);
    expect(group.stderr.trim()).to.match(/^pcluster: --group no-such-group-pcluster: no such group on this host/);
  });

  it('an app the user cannot read: exit 2 naming its path', async function () {
    if (process.getuid?.() !== 0) this.skip();
    // mkdtemp makes the directory 0700: root's alone.
    const app = path.join(tempDir(), 'app.mjs');
    writeFileSync(app, 'export default (req, res) => res.end("hi");\n');
    const cluster = await spawnCluster(app, { args: ['--user', 'nobody'] });
    expect((await cluster.exited).code).to.equal(2);
    expect(cluster.stderr.trim().split('\n')).to.have.length(1);
    expect(cluster.stderr).to.include(`${app} is not readable by nobody (EACCES)`);
  });
});
