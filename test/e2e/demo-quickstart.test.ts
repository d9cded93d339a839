import { expect } from 'chai';
import { spawnCluster, REPO_ROOT } from '../support/cluster-process.js';
import path from 'node:path';
import { getJson } from '../support/http.js';

describe('the README demo', () => {
  it('runs examples/hello on an embedded PostgreSQL, serves reads and writes, and stops cleanly', async function () {
    this.timeout(120_000);
    const cluster = await spawnCluster(path.join(REPO_ROOT, 'examples/hello/app.js'), { databaseUrl: null, args: ['--embedded-postgres'] });
    await cluster.waitForLog((line) => String(line.msg).includes('workers ready'), 90_000);
    const embedded = cluster.logs().find((line) => String(line.msg).startsWith('embedded PostgreSQL'));
    expect(embedded, 'the embedded server is announced').not.to.equal(undefined);
    const signed = await getJson(`${cluster.url}/sign?name=ada`, { method: 'POST' });
    expect(signed.status).to.equal(201);
    expect(signed.body['name']).to.equal('ada');
    const page = await getJson(`${cluster.url}/`);
    expect(page.status).to.equal(200);
    expect(page.body['entries'].map((e: { name: string }) => e.name)).to.include('ada');
    expect((await cluster.stop()).code).to.equal(0);
    expect(cluster.stdout + cluster.stderr).not.to.match(/password"?\s*[:=]\s*"?[A-Za-z0-9_-]{10,}/);
  });

  it('Ctrl-C in the terminal (SIGINT to the whole process group) drains in-flight requests before the embedded database stops', async function () {
    this.timeout(120_000);
    const cluster = await spawnCluster(path.join(REPO_ROOT, 'test/fixtures/routes.mjs'), { databaseUrl: null, args: ['--embedded-postgres'], ownProcessGroup: true });
    await cluster.waitForLog((line) => String(line.msg).includes('workers ready'), 90_000);
    const slow = getJson(`${cluster.url}/slow?ms=1500`);
    await new Promise((resolve) => setTimeout(resolve, 400)); // the request is inside its handler, between its two queries
    process.kill(-cluster.child.pid!, 'SIGINT');
    const answered = await slow;
    expect(answered.status, 'the second query still found its database').to.equal(200);
    expect(answered.body['done']).to.equal(true);
    expect((await cluster.exited).code).to.equal(0);
  });
});
