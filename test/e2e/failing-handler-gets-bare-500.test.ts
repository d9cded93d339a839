import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import { getJson } from '../support/http.js';

describe('a handler that throws or rejects', () => {
  it('answers a bare 500 (no stack, no SQL) and the worker keeps serving', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1 });
    const before = await getJson(`${cluster.url}/pid`);
    const paths = ['/throw', '/throw-string', '/throw-frozen-error', '/throw-frozen', '/reject-sql'];
    for (const path of paths) {
      const response = await fetch(`${cluster.url}${path}`);
      const body = await response.text();
      expect(response.status, path).to.equal(500);
      expect(body, path).to.equal('Internal Server Error\n');
    }
    const after = await getJson(`${cluster.url}/pid`);
    expect(after.status).to.equal(200);
    expect(after.body['workerPid'], 'the same worker process still serves').to.equal(before.body['workerPid']);
    expect(after.body['backendPid'], 'a SQL error does not cost the connection').to.equal(before.body['backendPid']);
    const errors = cluster.logs().filter((line) => line.msg === 'handler failed; answered 500');
    expect(errors.map((line) => line['path'])).to.deep.equal(paths);
    // What was thrown is logged as it was, but never with the password in it.
    expect(errors[1]!['err']).to.equal('boom: could not reach postgres://app:***@db.example/shop');
    expect(errors[2]!['err']).to.deep.include({ type: 'Error', message: 'boom: frozen error' });
    expect(errors[3]!['err']).to.deep.include({ message: 'boom: frozen', detail: 'postgres://app:***@db.example/shop' });
    expect(cluster.stdout).not.to.include('hunter2');
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('a promise rejection nobody handles is logged and costs no other request: the worker keeps serving', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1 });
    const before = await getJson(`${cluster.url}/pid`);
    expect((await getJson(`${cluster.url}/unhandled-rejection`)).status).to.equal(200);
    await cluster.waitForLog((line) => line.msg === 'unhandled promise rejection; the worker keeps serving', 10_000);
    const after = await getJson(`${cluster.url}/pid`);
    expect(after.body['workerPid'], 'the same worker process still serves').to.equal(before.body['workerPid']);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('in Express: the default error page shows no stack trace', async () => {
    const cluster = await startCluster(fixture('express-app.mjs'), { workers: 1 });
    const response = await fetch(`${cluster.url}/throw`);
    const body = await response.text();
    expect(response.status).to.equal(500);
    expect(body).not.to.match(/boom|SELECT|at .*\.m?js/);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
