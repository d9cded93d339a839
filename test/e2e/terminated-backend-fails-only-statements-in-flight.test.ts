import { expect } from 'chai';
import { useAdminClient } from '../support/database.js';
import {
  serverReceiveQueueBytes, startWithRequestWaitingOnLock, useAdvisoryLock, waitUntilQueuedBeyond, waitUntilSubmitted,
} from '../support/pipeline-probes.js';
import { request } from '../support/requests.js';

describe('pg_terminate_backend on a worker\'s connection mid-pipeline', () => {
  const admin = useAdminClient();
  const lock = useAdvisoryLock();

  it('fails exactly the statements in flight on it (none retried); those still waiting in pcluster, and later ones, succeed on a new connection', async () => {
    // In flight (the depth): A running on the server, B written behind it. Waiting in pcluster: C and D.
    const { cluster, backend, a } = await startWithRequestWaitingOnLock(admin(), lock, ['--pipeline-depth', '2']);
    const tag = `terminated-${Date.now()}`;
    const b = request(`${cluster.url}/insert?tag=${tag}`);
    const queuedWithB = await waitUntilQueuedBeyond(admin(), backend.clientPort, 0);
    const c = request(`${cluster.url}/echo?v=3&tag=c`);
    const d = request(`${cluster.url}/echo?v=4&tag=d`);
    await waitUntilSubmitted(cluster, 'c');
    await waitUntilSubmitted(cluster, 'd');
    expect(await serverReceiveQueueBytes(admin(), backend.clientPort), 'C or D was written beyond --pipeline-depth 2').to.equal(queuedWithB);

    await admin().query('SELECT pg_terminate_backend($1)', [backend.pid]);
    const [answerA, answerB, answerC, answerD] = await Promise.all([a, b, c, d]);
    expect(answerA.status, 'A, running when its connection died').to.be.within(500, 599);
    expect(answerB.status, 'B, written but not run when its connection died').to.be.within(500, 599);
    expect(answerC.status).to.equal(200);
    expect(answerD.status).to.equal(200);
    expect(answerC.body).to.include({ v: 3 });
    expect(answerD.body).to.include({ v: 4 });
    expect(answerC.body?.['pid'], 'C ran on a new connection').not.to.equal(backend.pid);
    expect(answerD.body?.['pid'], 'D ran on the same new connection').to.equal(answerC.body?.['pid']);
    const stored = await admin().query('SELECT count(*)::int AS n FROM pcluster_pipeline_items WHERE tag = $1', [tag]);
    expect(stored.rows[0].n, 'B\'s insert was run again after its request had failed').to.equal(0);

    await lock.release();
    for (let i = 0; i < 5; i++) expect(await request(`${cluster.url}/echo?v=${i}`)).to.deep.equal({ status: 200, body: { v: i, pid: answerC.body?.['pid'] } });
    expect((await cluster.stop()).code).to.equal(0);
  });
});
