import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import { getJson } from '../support/http.js';

// On Node 20 an active AsyncLocalStorage puts promise hooks on every promise in the worker
// (measured with the bench); only an app that imports `db` pays for them.
describe('the AsyncLocalStorage behind import { db }', () => {
  it('is off for an app that only uses req.db, and on from the first request after it imports db', async () => {
    const cluster = await startCluster(fixture('req-db-only.mjs'), { workers: 1 });
    const before = await getJson(`${cluster.url}/promise-hooks`);
    expect(before.body).to.deep.equal({ promiseHooks: false, n: 42 }, 'setup ran in the context, requests do not');

    const late = await getJson(`${cluster.url}/late-import`);
    expect(late.body['code'], 'the request that first imported db had no context').to.equal('PCLUSTER_NO_CONTEXT');
    expect(late.body['message']).to.include('import it at the top of the app module');

    expect((await getJson(`${cluster.url}/late-import`)).body).to.deep.equal({ n: 42 });
    expect((await getJson(`${cluster.url}/promise-hooks`)).body['promiseHooks']).to.equal(true);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('is on inside setup() even when setup first imports db there', async () => {
    const cluster = await startCluster(fixture('setup-imports-db-late.mjs'), { workers: 1 });
    expect((await getJson(`${cluster.url}/`)).body).to.deep.equal({ answer: 42 });
    expect((await cluster.stop()).code).to.equal(0);
  });
});
