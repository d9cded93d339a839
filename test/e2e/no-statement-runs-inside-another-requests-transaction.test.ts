import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import { useAdminClient } from '../support/database.js';
import { requestAll } from '../support/requests.js';

/**
 * Concurrent load on two workers: requests writing in transactions (db.transaction and raw BEGIN,
 * committed or rolled back, each held across an await) mixed with plain requests. Server-side facts
 * only: a plain statement that ran inside a transaction that had written sees its transaction id
 * (txid_current_if_assigned() is null in a statement's own implicit transaction until it writes), and
 * an autocommitted insert that ran inside another request's rolled-back transaction is missing.
 */
describe('a statement of one request never runs inside another request\'s transaction', () => {
  const admin = useAdminClient();

  it('under concurrent load: plain statements see no transaction id, and every acknowledged write is committed', async function () {
    this.timeout(120_000);
    const cluster = await startCluster(fixture('pipeline-app.mjs'), { workers: 2 });
    const run = `no-leak-${Date.now()}`;
    const mix = [
      { path: `/write-tx?tag=${run}-tx`, rowsEach: 2 },
      { path: `/txid`, rowsEach: 0 },
      { path: `/write-raw?tag=${run}-raw`, rowsEach: 2 },
      { path: `/insert?tag=${run}-plain`, rowsEach: 1 },
      { path: `/write-tx?tag=${run}-tx-rolled-back&rollback=1`, rowsEach: 0 },
      { path: `/txid?params=0`, rowsEach: 0 },
      { path: `/write-raw?tag=${run}-raw-rolled-back&rollback=1`, rowsEach: 0 },
      { path: `/txid`, rowsEach: 0 },
    ];
    const paths = Array.from({ length: 480 }, (_, i) => mix[i % mix.length]!.path);
    const outcomes = await requestAll(paths.map((path) => `${cluster.url}${path}`), 24);

    const failed = outcomes.flatMap((outcome, i) => (outcome.status === 200 ? [] : [`${paths[i]} → ${outcome.status}`]));
    expect(failed, 'every request succeeded').to.deep.equal([]);
    const reads = outcomes.filter((_, i) => paths[i]!.startsWith('/txid'));
    expect(reads).to.have.length(180);
    const inTransaction = reads.filter((outcome) => outcome.body?.['txid'] !== null).map((outcome) => outcome.body?.['txid']);
    expect(inTransaction.length, `plain statements that ran inside a transaction that had written (txids ${inTransaction.slice(0, 5).join(', ')}…)`).to.equal(0);

    const { rows } = await admin().query('SELECT tag, count(*)::int AS n FROM pcluster_pipeline_items WHERE tag LIKE $1 GROUP BY tag ORDER BY tag', [`${run}-%`]);
    const expected = new Map<string, number>();
    for (const path of paths) {
      const tag = new URL(path, 'http://x').searchParams.get('tag');
      const { rowsEach } = mix.find((entry) => entry.path === path)!;
      if (tag !== null && rowsEach > 0) expected.set(tag, (expected.get(tag) ?? 0) + rowsEach);
    }
    expect(rows).to.deep.equal([...expected].sort(([a], [b]) => a.localeCompare(b)).map(([tag, n]) => ({ tag, n })));
    expect((await cluster.stop()).code).to.equal(0);
  });
});
