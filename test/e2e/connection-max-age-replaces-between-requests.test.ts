import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import { getJson } from '../support/http.js';

describe('--connection-max-age', () => {
  it('replaces the worker\'s connection once it is old, between requests, failing none', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1, args: ['--connection-max-age', '500ms'] });
    const backends = new Set<number>();
    const statuses: number[] = [];
    const until = Date.now() + 2_000; // the behaviour under test is age: it needs time to pass
    while (Date.now() < until) {
      const { status, body } = await getJson(`${cluster.url}/pid`);
      statuses.push(status);
      backends.add(body['backendPid']);
    }
    expect(statuses.filter((s) => s !== 200)).to.deep.equal([]);
    expect(backends.size, 'the connection was replaced at least twice').to.be.at.least(3);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
