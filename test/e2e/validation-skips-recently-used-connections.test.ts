import { expect } from 'chai';
import { startCluster, fixture, type ClusterProcess } from '../support/cluster-process.js';
import { metricValue } from '../support/http.js';

async function validations(cluster: ClusterProcess): Promise<{ ok: number; skipped: number; failed: number }> {
  const text = await (await fetch(`${cluster.metricsUrl}/metrics`)).text();
  const read = (result: string): number => metricValue(text, `pcluster_db_validations_total{result="${result}"}`) ?? NaN;
  return { ok: read('ok'), skipped: read('skipped'), failed: read('failed') };
}

describe('connection validation', () => {
  it('is skipped for back-to-back statements, and pings after the idle window or an error', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1, args: ['--validate-after', '400ms'] });
    await fetch(`${cluster.url}/pid`).then((r) => r.text());
    const start = await validations(cluster);

    for (let i = 0; i < 10; i++) await fetch(`${cluster.url}/pid`).then((r) => r.text());
    const backToBack = await validations(cluster);
    expect(backToBack.ok - start.ok, 'no ping between back-to-back requests').to.equal(0);
    expect(backToBack.skipped - start.skipped).to.equal(10);

    await new Promise((resolve) => setTimeout(resolve, 800)); // idle past --validate-after: that is the behaviour under test
    await fetch(`${cluster.url}/pid`).then((r) => r.text());
    const afterIdle = await validations(cluster);
    expect(afterIdle.ok - backToBack.ok, 'one ping after the idle window').to.equal(1);

    await fetch(`${cluster.url}/reject-sql`).then((r) => r.text());
    await fetch(`${cluster.url}/pid`).then((r) => r.text());
    const afterError = await validations(cluster);
    expect(afterError.ok - afterIdle.ok, 'one ping after a failed statement').to.equal(1);
    expect(afterError.failed).to.equal(0);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
