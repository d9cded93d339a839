import { expect } from 'chai';
import { decide, respawnDelayMs, type ClusterIntent, type SlotView } from 'pcluster';

const intent = (overrides: Partial<ClusterIntent> = {}): ClusterIntent => ({ workers: 2, isStopping: false, gracefulTimeoutMs: 30_000, ...overrides });
const ready = { state: 'ready', drainStartedAt: undefined } as const;

describe('decide(): the primary\'s policy', () => {
  it('spawns every slot at start', () => {
    expect(decide(intent({ workers: 3 }), [], 0).actions).to.deep.equal([
      { type: 'spawn', slot: 1 },
      { type: 'spawn', slot: 2 },
      { type: 'spawn', slot: 3 },
    ]);
  });

  it('does nothing while every wanted slot has a live worker', () => {
    const slots: SlotView[] = [
      { slot: 1, worker: ready, respawnAt: 0 },
      { slot: 2, worker: { state: 'starting', drainStartedAt: undefined }, respawnAt: 0 },
    ];
    expect(decide(intent(), slots, 1000)).to.deep.equal({ actions: [], wakeAt: undefined });
  });

  it('respawns an empty slot once its backoff has passed, and wakes up for it before', () => {
    const slots: SlotView[] = [{ slot: 1, worker: ready, respawnAt: 0 }, { slot: 2, worker: undefined, respawnAt: 5_000 }];
    expect(decide(intent(), slots, 1_000)).to.deep.equal({ actions: [], wakeAt: 5_000 });
    expect(decide(intent(), slots, 5_000).actions).to.deep.equal([{ type: 'spawn', slot: 2 }]);
  });

  it('drains every live worker when stopping, and spawns nothing', () => {
    const slots: SlotView[] = [{ slot: 1, worker: ready, respawnAt: 0 }, { slot: 2, worker: undefined, respawnAt: 0 }];
    expect(decide(intent({ isStopping: true }), slots, 0).actions).to.deep.equal([{ type: 'drain', slot: 1 }]);
  });

  it('drains workers in slots above the wanted count (scale down)', () => {
    const slots: SlotView[] = [1, 2, 3].map((slot) => ({ slot, worker: ready, respawnAt: 0 }));
    expect(decide(intent({ workers: 1 }), slots, 0).actions).to.deep.equal([
      { type: 'drain', slot: 2 },
      { type: 'drain', slot: 3 },
    ]);
  });

  it('kills a draining worker after the graceful timeout plus a margin, and wakes up for it', () => {
    const slots: SlotView[] = [{ slot: 1, worker: { state: 'draining', drainStartedAt: 1_000 }, respawnAt: 0 }];
    const stopping = intent({ isStopping: true, gracefulTimeoutMs: 10_000 });
    const early = decide(stopping, slots, 2_000);
    expect(early.actions).to.deep.equal([]);
    expect(early.wakeAt).to.be.greaterThan(11_000);
    expect(decide(stopping, slots, early.wakeAt!).actions).to.deep.equal([{ type: 'kill', slot: 1 }]);
  });
});

describe('respawnDelayMs(): crash backoff', () => {
  it('replaces at once the first time, then doubles up to a cap', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 20].map(respawnDelayMs);
    expect(delays.slice(0, 6)).to.deep.equal([0, 1_000, 2_000, 4_000, 8_000, 16_000]);
    expect(delays.at(-1)).to.equal(30_000);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).to.be.at.least(delays[i - 1]!);
  });
});
