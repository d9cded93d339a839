import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixture, spawnCluster, startCluster } from '../support/cluster-process.js';
import { getJson } from '../support/http.js';

describe('--env-file', () => {
  let dir: string;
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pcluster-env-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives DATABASE_URL to pcluster and the app\'s own variables to the workers; the environment wins over the file', async () => {
    const file = write('.env', [
      `DATABASE_URL=${process.env['PCLUSTER_TEST_DATABASE_URL']}`,
      'FIXTURE_GREETING=from the file',
      'FIXTURE_KEPT=from the file',
    ].join('\n'));
    const cluster = await startCluster(fixture('echo-env.mjs'), { databaseUrl: null, env: { FIXTURE_KEPT: 'from the environment' }, args: ['--env-file', file] });
    const { status, body } = await getJson(cluster.url);
    expect(status).to.equal(200);
    expect(body).to.deep.equal({ answer: 42, env: { FIXTURE_GREETING: 'from the file', FIXTURE_KEPT: 'from the environment', FIXTURE_ORDER: null } });
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('in the config file, as a list: a later file wins over an earlier one', async () => {
    const first = write('first.env', `DATABASE_URL=${process.env['PCLUSTER_TEST_DATABASE_URL']}\nFIXTURE_ORDER=first\nFIXTURE_GREETING=first\n`);
    const second = write('second.env', 'FIXTURE_ORDER=second\n');
    const config = write('pcluster.json', JSON.stringify({ 'env-file': [first, second] }));
    const cluster = await startCluster(fixture('echo-env.mjs'), { databaseUrl: null, args: ['--config', config] });
    const { body } = await getJson(cluster.url);
    expect(body['env']).to.deep.include({ FIXTURE_ORDER: 'second', FIXTURE_GREETING: 'first' });
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('a file that cannot be read: exit 2 with one line naming it', async () => {
    const missing = path.join(dir, 'missing.env');
    const config = write('pcluster.json', JSON.stringify({ 'env-file': missing }));
    const cluster = await spawnCluster(fixture('echo-env.mjs'), { args: ['--config', config] });
    expect((await cluster.exited).code).to.equal(2);
    expect(cluster.stderr.trim().split('\n'), cluster.stderr).to.have.length(1);
    expect(cluster.stderr).to.include(`cannot read ${missing}: file not found`);
  });

  it('on the command line of the installed bin, a missing file is pcluster\'s exit 2, not Node 20\'s own exit 9', async () => {
    const missing = path.join(dir, 'missing.env');
    const bin = fileURLToPath(new URL('../../../packages/supervisor/bin/pcluster.js', import.meta.url));
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(bin, ['start', fixture('echo-env.mjs'), '--env-file', missing], (error, _stdout, stderr) =>
        resolve({ code: error ? (error as { code?: number }).code ?? null : 0, stderr }));
      child.stdin?.end();
    });
    expect(code, stderr).to.equal(2);
    expect(stderr).to.include(`pcluster: --env-file: cannot read ${missing}: file not found`);
  });
});
