import { expect } from 'chai';
import http from 'node:http';
import { startCluster, fixture, type ClusterProcess } from '../support/cluster-process.js';
import { tcpSocketStates } from '../support/sockets.js';
import { clusterStatus } from '../support/status.js';
import { waitFor } from '../support/wait-for.js';

const CLIENTS = 16;
const KILLS = 10;
/** A request that has no answer by then is hung: the page answers in milliseconds. */
const HUNG_AFTER_MS = 8_000;

type Outcome = 'ok' | 'failed' | 'hung';

/** One request on a connection of its own, `Connection: close`, as many clients and proxies send them. */
function requestOnNewConnection(url: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? 'ok' : 'failed'));
      res.on('error', () => resolve('failed'));
    });
    req.setTimeout(HUNG_AFTER_MS, () => {
      req.destroy();
      resolve('hung');
    });
    req.on('error', () => resolve('failed'));
  });
}

/** Keeps CLIENTS requests in flight, each on a new connection, until stopped; counts what each got. */
function connectionCloseLoad(url: string): { stop(): Promise<Record<Outcome, number>> } {
  const counts: Record<Outcome, number> = { ok: 0, failed: 0, hung: 0 };
  let isRunning = true;
  const clients = Array.from({ length: CLIENTS }, async () => {
    while (isRunning) counts[await requestOnNewConnection(url)] += 1;
  });
  return {
    async stop() {
      isRunning = false;
      await Promise.all(clients);
      return counts;
    },
  };
}

async function settled(cluster: ClusterProcess, workers: number): Promise<void> {
  await waitFor(async () => {
    const status = await clusterStatus(cluster);
    return status.workers.length === workers && status.workers.every((w) => w.state === 'ready');
  }, 60_000, `${workers} ready workers`);
}

describe('chaos under Connection: close load: worker kills (connections stranded at a worker\'s death, nodejs/node#21746)', () => {
  it('hang no request and leave no CLOSE-WAIT socket in the primary', async function () {
    this.timeout(180_000);
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 3 });
    await settled(cluster, 3);
    const primaryPid = cluster.child.pid!;
    const before = tcpSocketStates(primaryPid);
    const load = connectionCloseLoad(`${cluster.url}/page`);
    let counts: Record<Outcome, number>;
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        const { workers } = await clusterStatus(cluster);
        process.kill(workers[Math.floor(Math.random() * workers.length)]!.pid!, 'SIGKILL');
        await settled(cluster, 3);
      }
    } finally {
      // Stopped even when a kill round fails, so no request loop outlives the test.
      counts = await load.stop();
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = tcpSocketStates(primaryPid);
    const handedOver = cluster.logs().filter((line) => /dead worker never accepted/.test(String(line.msg))).length;
    const report = `requests ${JSON.stringify(counts)}, ${handedOver} hand-overs, primary sockets before ${JSON.stringify(before)} after ${JSON.stringify(after)}`;
    expect(counts.ok, report).to.be.greaterThan(100);
    expect(counts.hung, report).to.equal(0);
    expect(after['CLOSE_WAIT'] ?? 0, report).to.equal(before['CLOSE_WAIT'] ?? 0);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
