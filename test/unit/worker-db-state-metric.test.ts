import { expect } from 'chai';
import { ClusterMetrics } from 'pcluster/internal/cluster-metrics';
import type { WorkerHandle } from 'pcluster/internal/worker-handle';
import { CONNECTION_STATES, type ConnectionState } from '@pcluster/worker-runtime/protocol';

type Fake = Pick<WorkerHandle, 'slot' | 'state' | 'dbState'>;
const worker = (slot: number, state: WorkerHandle['state'], dbState: ConnectionState): Fake => ({ slot, state, dbState });

/** The pcluster_worker_db_state samples of a render, as `worker/state value` strings. */
async function dbStates(handles: Fake[]): Promise<string[]> {
  const text = await new ClusterMetrics(() => handles as WorkerHandle[], 4).render([]);
  return [...text.matchAll(/^pcluster_worker_db_state\{worker="(\w+)",state="(\w+)"\} (\d+)$/gm)].map(([, w, s, v]) => `${w}/${s} ${v}`);
}

describe('pcluster_worker_db_state', () => {
  it('has one series per slot and connection state, 1 for the current one; a slot whose worker is gone has none', async () => {
    const samples = await dbStates([worker(1, 'ready', 'open'), worker(2, 'ready', 'broken')]);
    expect(samples).to.have.length(2 * CONNECTION_STATES.length);
    expect(samples.filter((s) => s.endsWith(' 1'))).to.deep.equal(['1/open 1', '2/broken 1']);
    expect(await dbStates([worker(1, 'ready', 'open')])).not.to.satisfy((all: string[]) => all.some((s) => s.startsWith('2/')));
  });

  it('speaks for a slot with its serving worker, not the replacement booting beside it or the one draining', async () => {
    const replacing = [worker(1, 'draining', 'closing'), worker(1, 'starting', 'connecting'), worker(1, 'ready', 'open')];
    expect((await dbStates(replacing)).filter((s) => s.endsWith(' 1'))).to.deep.equal(['1/open 1']);
    expect((await dbStates(replacing.slice(0, 2))).filter((s) => s.endsWith(' 1'))).to.deep.equal(['1/connecting 1']);
  });
});
