import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';

describe('--leak-threshold', () => {
  it('logs one warning, with method, path and elapsed time, for a transaction held too long', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1, args: ['--leak-threshold', '150ms'] });
    expect((await fetch(`${cluster.url}/slow-tx?ms=700`)).status).to.equal(200);
    expect((await fetch(`${cluster.url}/slow-tx?ms=10`)).status).to.equal(200);
    const warnings = cluster.logs().filter((line) => String(line.msg).includes('--leak-threshold'));
    expect(warnings).to.have.length(1);
    expect(warnings[0]!['request']).to.equal('GET /slow-tx?ms=700');
    expect(warnings[0]!['heldMs']).to.be.at.least(150);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
