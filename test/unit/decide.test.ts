import { expect } from 'chai';
import { decide, KILL_MARGIN_MS, respawnDelayMs, startupDeathHalts, type ClusterIntent, type ClusterView, type SlotView, type WorkerView } from 'pcluster';
import { failuresInARow, STABLE_AFTER_READY_MS } from 'pcluster/internal/decide';
import { emptySlot, scheduleRespawn } from 'pcluster/internal/slot';

const intent = (overrides: Partial<ClusterIntent> = {}): ClusterIntent => ({
  workers: 2, isStopping: false, phase: 1, gracefulTimeoutMs: 30_000, timeoutMs: 30_000,
  maxMemoryBytes: undefined, maxAgeMs: undefined, maxConnections: 3, waitForDbMs: 0, ...overrides,
});
let nextId = 1;
const worker = (overrides: Partial<WorkerView> = {}): WorkerView => ({
  id: nextId++, state: 'ready', phase: 1, startedAt: 0, drainStartedAt: undefined, lastCheckInAt: 0, helloAt: 0, grantedAt: 0,
  dbState: 'open', slotWaitEndedAt: undefined, requests: 0, maxRequests: 0, rssBytes: 50e6, ...overrides,
});
const slot = (n: number, current: WorkerView | undefined, more: Partial<SlotView> = {}): SlotView => ({ slot: n, current, successor: undefined, respawnAt: 0, ...more });
const view = (slots: SlotView[], more: Partial<ClusterView> = {}): ClusterView => ({
  slots, draining: [], connectionsGranted: slots.filter((s) => s.current !== undefined).length, connectionsDraining: 0, ...more,
});

describe('decide(): the primary\'s policy', () => {
  it('spawns every slot at start', () => {
    expect(decide(intent({ workers: 3 }), view([]), 0).actions).to.deep.equal([1, 2, 3].map((n) => ({ type: 'spawn', slot: n })));
  });

  it('does nothing while every slot is served, and wakes for the next heartbeat deadline', () => {
    const decision = decide(intent({ timeoutMs: 5_000 }), view([slot(1, worker({ lastCheckInAt: 1_000 })), slot(2, worker({ lastCheckInAt: 2_000 }))]), 3_000);
    expect(decision).to.deep.equal({ actions: [], wakeAt: 6_000 });
  });

  describe('crashes', () => {
    it('respawns an empty slot once its backoff has passed, and wakes up for it before', () => {
      const slots = [slot(1, worker()), slot(2, undefined, { respawnAt: 5_000 })];
      expect(decide(intent(), view(slots), 1_000).actions).to.deep.equal([]);
      expect(decide(intent(), view(slots), 1_000).wakeAt).to.equal(5_000);
      expect(decide(intent(), view(slots), 5_000).actions).to.deep.equal([{ type: 'spawn', slot: 2 }]);
    });

    it('during start-up: a reported boot failure ends the start at once; silent deaths only when every worker has died', () => {
      expect(startupDeathHalts({ isReported: true, deaths: 1, workers: 4, isAnyReady: true })).to.equal(true);
      expect(startupDeathHalts({ isReported: false, deaths: 1, workers: 2, isAnyReady: false })).to.equal(false);
      expect(startupDeathHalts({ isReported: false, deaths: 5, workers: 2, isAnyReady: true }), 'one slot dying while another serves').to.equal(false);
      expect(startupDeathHalts({ isReported: false, deaths: 2, workers: 2, isAnyReady: false })).to.equal(true);
    });

    it('backs off: at once the first time, then doubling to a cap', () => {
      expect([1, 2, 3, 4, 5, 6].map(respawnDelayMs)).to.deep.equal([0, 1_000, 2_000, 4_000, 8_000, 16_000]);
      expect(respawnDelayMs(50)).to.equal(30_000);
    });

    it('counts a death as a failure in a row only before ready or within STABLE_AFTER_READY_MS of it', () => {
      expect(failuresInARow(3, { readyAt: undefined }, 60_000), 'never ready').to.equal(4);
      expect(failuresInARow(3, { readyAt: 10_000 }, 10_000 + STABLE_AFTER_READY_MS - 1), 'right after ready').to.equal(4);
      expect(failuresInARow(3, { readyAt: 10_000 }, 10_000 + STABLE_AFTER_READY_MS), 'served: a new count').to.equal(1);
    });

    // The slot as the primary keeps it: each death booked by scheduleRespawn, the respawn decided by decide().
    const slotAfterDeath = (state: ReturnType<typeof emptySlot>, readyAt: number | undefined, now: number): SlotView[] => {
      scheduleRespawn(state, { readyAt }, now);
      return [slot(1, worker({ lastCheckInAt: now })), slot(2, undefined, { respawnAt: state.respawnAt })];
    };

    it('replaces a worker killed after it was ready at once, however often: kills every 5 s leave the slot empty 0 ms', () => {
      const state = emptySlot(2);
      for (let kill = 1, forkedAt = 0; kill <= 6; kill++, forkedAt += 5_000) {
        const diesAt = forkedAt + 5_000;
        const decision = decide(intent(), view(slotAfterDeath(state, forkedAt + 600, diesAt)), diesAt);
        expect(decision.actions, `kill ${kill}`).to.deep.equal([{ type: 'spawn', slot: 2 }]);
      }
    });

    it('keeps the backoff for workers that die before they are ready or right after, over and over (a crash loop)', () => {
      const state = emptySlot(2);
      const waits: number[] = [];
      let now = 0;
      for (let death = 1; death <= 5; death++) {
        // Forked at `now`: odd deaths come before ready, even ones 100 ms after it.
        const readyAt = death % 2 === 0 ? now + 400 : undefined;
        now += 500;
        const slots = slotAfterDeath(state, readyAt, now);
        const decision = decide(intent(), view(slots), now);
        if (decision.actions.length === 0) {
          waits.push(decision.wakeAt! - now);
          now = decision.wakeAt!;
        } else waits.push(0);
        expect(decide(intent(), view(slots), now).actions, `respawn ${death}`).to.deep.equal([{ type: 'spawn', slot: 2 }]);
      }
      expect(waits).to.deep.equal([0, 1_000, 2_000, 4_000, 8_000]);
      // Then a worker that serves a while and is killed: at once again.
      expect(decide(intent(), view(slotAfterDeath(state, now + 500, now + 60_000)), now + 60_000).actions).to.deep.equal([{ type: 'spawn', slot: 2 }]);
    });
  });

  describe('hung workers (--timeout)', () => {
    it('kills a ready worker that has not checked in within the timeout', () => {
      const hung = worker({ lastCheckInAt: 0 });
      const decision = decide(intent({ timeoutMs: 2_000 }), view([slot(1, hung), slot(2, worker({ lastCheckInAt: 1_900 }))]), 2_000);
      expect(decision.actions).to.deep.equal([{ type: 'kill', id: hung.id, reason: 'timeout' }]);
    });

    it('does not apply the heartbeat timeout to a worker still booting, nor any deadline while it waits for the budget', () => {
      const waiting = worker({ state: 'starting', lastCheckInAt: 0, helloAt: 100, grantedAt: undefined });
      const decision = decide(intent({ timeoutMs: 1_000 }), view([slot(1, waiting), slot(2, worker({ lastCheckInAt: 9_000 }))]), 9_500);
      expect(decision).to.deep.equal({ actions: [], wakeAt: 10_000 });
    });

    it('kills a worker that does not finish booting: --timeout to say hello, then --wait-for-db + 5 s + --timeout after its grant', () => {
      const loading = worker({ state: 'starting', startedAt: 0, helloAt: undefined, grantedAt: undefined });
      const slots = (w: WorkerView) => view([slot(1, w), slot(2, worker({ lastCheckInAt: 100_000 }))]);
      const limits = intent({ timeoutMs: 30_000, waitForDbMs: 10_000 });
      expect(decide(limits, slots(loading), 29_999)).to.deep.equal({ actions: [], wakeAt: 30_000 });
      expect(decide(limits, slots(loading), 30_000).actions).to.deep.equal([{ type: 'kill', id: loading.id, reason: 'boot_timeout' }]);
      // Loading gets at least 30 s whatever --timeout says: a short --timeout is about hung event loops, not slow disks.
      expect(decide(intent({ timeoutMs: 1_000 }), slots(loading), 29_999)).to.deep.equal({ actions: [], wakeAt: 30_000 });
      const setupHangs = worker({ state: 'starting', startedAt: 0, helloAt: 300, grantedAt: 1_000 });
      expect(decide(limits, slots(setupHangs), 45_999).wakeAt).to.equal(46_000);
      expect(decide(limits, slots(setupHangs), 46_000).actions).to.deep.equal([{ type: 'kill', id: setupHangs.id, reason: 'boot_timeout' }]);
    });

    it('sets no boot deadline while a worker waits for a server slot (SPEC §6), and starts its allowance again when it gets one', () => {
      const slots = (w: WorkerView) => view([slot(1, w), slot(2, worker({ lastCheckInAt: 10_000_000 }))]);
      const limits = intent({ timeoutMs: 30_000, waitForDbMs: 0 });
      const waiting = worker({ state: 'starting', startedAt: 0, helloAt: 300, grantedAt: 1_000, dbState: 'waiting' });
      expect(decide(limits, slots(waiting), 3_600_000).actions).to.deep.equal([]);
      const gotSlot = { ...waiting, dbState: 'connecting' as const, slotWaitEndedAt: 3_600_000 };
      expect(decide(limits, slots(gotSlot), 3_634_999)).to.deep.equal({ actions: [], wakeAt: 3_635_000 });
      expect(decide(limits, slots(gotSlot), 3_635_000).actions).to.deep.equal([{ type: 'kill', id: gotSlot.id, reason: 'boot_timeout' }]);
    });
  });

  describe('recycling', () => {
    it('replaces a worker past --max-requests make-before-break when the budget has a spare connection', () => {
      const tired = worker({ requests: 100, maxRequests: 100 });
      const decision = decide(intent(), view([slot(1, tired), slot(2, worker())]), 0);
      expect(decision.actions).to.deep.equal([{ type: 'replace', slot: 1, reason: 'max_requests' }]);
    });

    it('drains first (break-before-make) when the budget has no spare connection', () => {
      const tired = worker({ requests: 100, maxRequests: 100 });
      const decision = decide(intent({ maxConnections: 2 }), view([slot(1, tired), slot(2, worker())]), 0);
      expect(decision.actions).to.deep.equal([{ type: 'drain', id: tired.id, reason: 'max_requests' }]);
    });

    it('recycles on RSS above --max-memory and on age above --max-age, waking up when the age is due', () => {
      const big = worker({ rssBytes: 600e6 });
      expect(decide(intent({ maxMemoryBytes: 512e6 }), view([slot(1, big), slot(2, worker())]), 0).actions).to.deep.equal([{ type: 'replace', slot: 1, reason: 'max_memory' }]);
      const young = view([slot(1, worker({ startedAt: 0 })), slot(2, worker({ startedAt: 500 }))]);
      expect(decide(intent({ maxAgeMs: 10_000 }), young, 5_000)).to.deep.equal({ actions: [], wakeAt: 10_000 });
      expect(decide(intent({ maxAgeMs: 10_000 }), young, 10_000).actions).to.deep.equal([{ type: 'replace', slot: 1, reason: 'max_age' }]);
    });

    it('recycles two workers at a time at most, and none while a slot is not served by a ready worker', () => {
      const tired = () => worker({ requests: 5, maxRequests: 5 });
      const three = intent({ workers: 3, maxConnections: 4 });
      const oneBooting = view([slot(1, worker(), { successor: worker({ state: 'starting' }) }), slot(2, tired()), slot(3, tired())]);
      expect(decide(three, oneBooting, 0).actions).to.deep.equal([{ type: 'replace', slot: 2, reason: 'max_requests' }]);
      const twoBooting = view([
        slot(1, worker(), { successor: worker({ state: 'starting' }) }), slot(2, worker(), { successor: worker({ state: 'starting' }) }), slot(3, tired()),
      ]);
      expect(decide(three, twoBooting, 0).actions).to.deep.equal([]);
      const notReady = view([slot(1, worker({ state: 'starting' })), slot(2, tired()), slot(3, tired())]);
      expect(decide(three, notReady, 0).actions).to.deep.equal([]);
      const all = decide(three, view([slot(1, tired()), slot(2, tired()), slot(3, tired())]), 0);
      expect(all.actions).to.deep.equal([{ type: 'replace', slot: 1, reason: 'max_requests' }, { type: 'replace', slot: 2, reason: 'max_requests' }]);
    });

    it('does not start a successor while its slot backs off after a successor died', () => {
      const old = worker({ phase: 1 });
      const slots = [slot(1, old, { respawnAt: 4_000 }), slot(2, worker({ phase: 2 }))];
      const early = decide(intent({ phase: 2 }), view(slots), 1_000);
      expect(early).to.deep.equal({ actions: [], wakeAt: 4_000 });
      expect(decide(intent({ phase: 2 }), view(slots), 4_000).actions).to.deep.equal([{ type: 'replace', slot: 1, reason: 'reload' }]);
    });
  });

  describe('rolling reload', () => {
    it('replaces workers of an older phase, two at a time', () => {
      const old = () => worker({ phase: 1 });
      const three = intent({ workers: 3, phase: 2, maxConnections: 4 });
      const decision = decide(three, view([slot(1, old()), slot(2, old()), slot(3, old())]), 0);
      expect(decision.actions).to.deep.equal([{ type: 'replace', slot: 1, reason: 'reload' }, { type: 'replace', slot: 2, reason: 'reload' }]);
      const halfway = decide(three, view([slot(1, worker({ phase: 2 })), slot(2, worker({ phase: 2 })), slot(3, old())]), 0);
      expect(halfway.actions).to.deep.equal([{ type: 'replace', slot: 3, reason: 'reload' }]);
    });

    it('replaces the next worker make-before-break while the last one replaced still drains on the spare connection', () => {
      // Default budget (workers + 1): the drained generation-1 worker of slot 1 holds the spare until it exits.
      const old = worker({ phase: 1, state: 'draining', drainStartedAt: 0 });
      const slots = [slot(1, worker({ phase: 2 })), slot(2, worker({ phase: 1 }))];
      const decision = decide(intent({ phase: 2 }), view(slots, { draining: [old], connectionsGranted: 3, connectionsDraining: 1 }), 0);
      expect(decision.actions).to.deep.equal([{ type: 'replace', slot: 2, reason: 'reload' }]);
    });

    it('drains first when no connection of the budget is spare or on its way back', () => {
      // --max-connections = --workers; the draining worker never got a connection, so its exit frees none.
      const old = worker({ phase: 1, state: 'draining', drainStartedAt: 0 });
      const slots = [slot(1, worker({ phase: 2 })), slot(2, worker({ phase: 1 }))];
      const full = view(slots, { draining: [old], connectionsGranted: 2, connectionsDraining: 0 });
      const decision = decide(intent({ phase: 2, maxConnections: 2 }), full, 0);
      expect(decision.actions).to.deep.equal([{ type: 'drain', id: slots[1]!.current!.id, reason: 'reload' }]);
    });
  });

  describe('scaling', () => {
    it('spawns new slots when scaled up and drains the highest slots when scaled down', () => {
      expect(decide(intent({ workers: 3, maxConnections: 4 }), view([slot(1, worker()), slot(2, worker())]), 0).actions).to.deep.equal([{ type: 'spawn', slot: 3 }]);
      const w3 = worker();
      expect(decide(intent({ workers: 2 }), view([slot(1, worker()), slot(2, worker()), slot(3, w3)]), 0).actions).to.deep.equal([{ type: 'drain', id: w3.id, reason: 'scale' }]);
    });
  });

  describe('stopping', () => {
    it('drains every serving worker and spawns nothing', () => {
      const [a, b] = [worker(), worker({ state: 'starting' })];
      expect(decide(intent({ isStopping: true }), view([slot(1, a), slot(2, undefined, { successor: b })]), 0).actions).to.deep.equal([
        { type: 'drain', id: a.id, reason: 'stop' },
        { type: 'drain', id: b.id, reason: 'stop' },
      ]);
    });

    it('kills a draining worker after the graceful timeout plus a margin', () => {
      const draining = worker({ state: 'draining', drainStartedAt: 1_000 });
      const stopping = intent({ isStopping: true, gracefulTimeoutMs: 10_000 });
      const early = decide(stopping, view([], { draining: [draining] }), 2_000);
      expect(early).to.deep.equal({ actions: [], wakeAt: 11_000 + KILL_MARGIN_MS });
      expect(decide(stopping, view([], { draining: [draining] }), early.wakeAt!).actions).to.deep.equal([{ type: 'kill', id: draining.id, reason: 'graceful_timeout' }]);
    });
  });
});
