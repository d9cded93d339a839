import { expect } from 'chai';
import { copyFileSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixture, spawnCluster, startCluster } from '../support/cluster-process.js';
import { getJson } from '../support/http.js';

describe('a TypeScript app runs through the tsx of its own project', () => {
  it('a .ts handler with type annotations is served, its tsx found from the app\'s directory', async () => {
    const cluster = await startCluster(fixture('typed-handler.ts'), { workers: 2 });
    const { status, body } = await getJson(cluster.url);
    expect(status).to.equal(200);
    expect(body).to.deep.equal({ answer: 42, language: 'typescript' });
    expect((await cluster.stop()).code).to.equal(0);
  });

  describe('outside any project that has tsx', () => {
    let dir: string;
    beforeEach(() => {
      dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'pcluster-ts-app-')));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('exit 2 with one line naming the app file and the fix, before anything is forked', async () => {
      const app = path.join(dir, 'app.ts');
      copyFileSync(fixture('typed-handler.ts'), app);
      const cluster = await spawnCluster(app, { workers: 2 });
      expect((await cluster.exited).code).to.equal(2);
      const lines = cluster.stderr.split('\n').filter((line) => line.trim() !== '');
      expect(lines, cluster.stderr).to.have.length(1);
      expect(lines[0]).to.include(app).and.to.include('npm install --save-dev tsx').and.to.include('--node-arg=--import=<loader>');
      expect(cluster.stdout, 'nothing was forked').not.to.match(/worker/);
    });
  });
});
