import { expect } from 'chai';
import { useAdminClient } from '../support/database.js';
import { startWithRequestWaitingOnLock, useAdvisoryLock, waitUntilQueuedBeyond } from '../support/pipeline-probes.js';
import { request, type Outcome } from '../support/requests.js';

describe('an error in one pipelined statement', () => {
  const admin = useAdminClient();
  const lock = useAdvisoryLock();

  it('fails only its own request: the statements in flight with it, before and after, succeed on the same connection', async () => {
    // A waits on the server; the others are written behind it, each seen queued there before the next is sent.
    const { cluster, backend, a: waiting } = await startWithRequestWaitingOnLock(admin(), lock);
    const inFlight: Promise<Outcome>[] = [waiting];
    let queued = 0;
    for (const path of ['/echo?v=2', '/divide?by=0', '/echo?v=4', '/divide?by=5']) {
      inFlight.push(request(`${cluster.url}${path}`));
      queued = await waitUntilQueuedBeyond(admin(), backend.clientPort, queued);
    }

    await lock.release();
    const [a, b, failed, d, e] = await Promise.all(inFlight);
    expect(failed, 'division by zero: a bare 500').to.deep.equal({ status: 500, body: undefined });
    expect(a).to.deep.equal({ status: 200, body: { pid: backend.pid } });
    expect(b).to.deep.equal({ status: 200, body: { v: 2, pid: backend.pid } });
    expect(d).to.deep.equal({ status: 200, body: { v: 4, pid: backend.pid } });
    expect(e).to.deep.equal({ status: 200, body: { q: 2 } });
    expect(await request(`${cluster.url}/echo?v=6`), 'the connection goes on').to.deep.equal({ status: 200, body: { v: 6, pid: backend.pid } });
    expect((await cluster.stop()).code).to.equal(0);
  });
});
