import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnCluster, startCluster } from '../support/cluster-process.js';
import { useTempDir } from '../support/temp-dir.js';

describe('--chdir', () => {
  const tempDir = useTempDir('pcluster-chdir');

  it('loads the app by a path relative to that directory, which is the workers\' working directory', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'greeting.txt'), 'hello from the app directory');
    // The app reads a file by a relative path, as apps do with their templates and assets.
    writeFileSync(path.join(dir, 'app.mjs'), [
      "import { readFileSync } from 'node:fs';",
      'export default (req, res) => res.end(JSON.stringify({ cwd: process.cwd(), greeting: readFileSync("greeting.txt", "utf8") }));',
    ].join('\n'));
    const cluster = await startCluster('app.mjs', { workers: 1, args: ['--chdir', dir] });
    const body = (await (await fetch(cluster.url)).json()) as { cwd: string; greeting: string };
    expect(body).to.deep.equal({ cwd: dir, greeting: 'hello from the app directory' });
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('a directory that does not exist: exit 2 naming it', async () => {
    const missing = path.join(tempDir(), 'missing');
    const cluster = await spawnCluster('app.mjs', { args: ['--chdir', missing] });
    expect((await cluster.exited).code).to.equal(2);
    expect(cluster.stderr.trim()).to.equal(`pcluster: --chdir: ${missing} is not a directory; give the directory to load the app from`);
  });
});
