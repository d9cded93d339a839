import { expect } from 'chai';
import { useAdminClient } from '../support/database.js';
import {
  serverReceiveQueueBytes, startWithRequestWaitingOnLock, useAdvisoryLock, waitUntilQueuedBeyond, waitUntilSubmitted,
} from '../support/pipeline-probes.js';
import { request, type Outcome } from '../support/requests.js';

/**
 * Seen from the server: request A's statement waits there for an advisory lock the test holds, so the
 * backend reads nothing more from its socket; whatever pcluster writes behind A stays in the kernel's
 * receive queue of the server's end of the worker's connection, where /proc/net/tcp shows it.
 */
describe('statements of concurrent requests outside transactions', () => {
  const admin = useAdminClient();
  const lock = useAdvisoryLock();

  /** Once the lock is released, A, B (`/echo?v=2`) and C (`/echo?v=3`) all succeed on the connection A waited on. */
  async function expectAllAnswered(backendPid: number, requests: Promise<Outcome>[]): Promise<void> {
    await lock.release();
    expect(await Promise.all(requests)).to.deep.equal([
      { status: 200, body: { pid: backendPid } },
      { status: 200, body: { v: 2, pid: backendPid } },
      { status: 200, body: { v: 3, pid: backendPid } },
    ]);
  }

  it('are written behind a statement still running on the server (default --pipeline-depth), and answered in order', async () => {
    const { cluster, backend, a } = await startWithRequestWaitingOnLock(admin(), lock);
    expect(await serverReceiveQueueBytes(admin(), backend.clientPort), 'the backend has read all of A').to.equal(0);
    const b = request(`${cluster.url}/echo?v=2`);
    const queuedWithB = await waitUntilQueuedBeyond(admin(), backend.clientPort, 0);
    const c = request(`${cluster.url}/echo?v=3`);
    await waitUntilQueuedBeyond(admin(), backend.clientPort, queuedWithB);

    await expectAllAnswered(backend.pid, [a, b, c]);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('--pipeline-depth 1: pcluster holds them back until the statement before them is answered', async () => {
    const { cluster, backend, a } = await startWithRequestWaitingOnLock(admin(), lock, ['--pipeline-depth', '1']);
    const b = request(`${cluster.url}/echo?v=2&tag=b`);
    await waitUntilSubmitted(cluster, 'b');
    expect(await serverReceiveQueueBytes(admin(), backend.clientPort), 'B was written while A ran').to.equal(0);
    const c = request(`${cluster.url}/echo?v=3&tag=c`);
    await waitUntilSubmitted(cluster, 'c');
    expect(await serverReceiveQueueBytes(admin(), backend.clientPort), 'B or C was written while A ran').to.equal(0);

    await expectAllAnswered(backend.pid, [a, b, c]);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
