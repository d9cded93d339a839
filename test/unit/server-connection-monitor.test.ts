import { expect } from 'chai';
import type { Logger } from '@pcluster/worker-runtime/logger';
import type { ServerBackend } from '@pcluster/worker-runtime/protocol';
import { ServerConnectionMonitor } from 'pcluster/internal/server-connection-monitor';
import type { WorkerHandle } from 'pcluster/internal/worker-handle';

/**
 * One round of the monitor against what "PostgreSQL" shows (`backends`) and the pids the workers have reported.
 * `isExitSlow`: a backend just terminated is still listed in that round's answer (pg_terminate_backend only signals it).
 */
function harness(orphanGraceMs = 4_000, isExitSlow = false) {
  const counts = { mismatched: 0, terminated: 0 };
  const warnings: string[] = [];
  let backends: ServerBackend[] = [];
  const log = { warn: (_fields: object, message: string) => warnings.push(message) } as unknown as Logger;
  const monitor = new ServerConnectionMonitor({
    applicationNamePrefix: 'pcluster:test:', orphanGraceMs, log,
    events: { counted: () => {}, mismatched: () => counts.mismatched++, orphansTerminated: (n) => (counts.terminated += n) },
  });
  const asker = (backendPid: number | null) => ({
    isReady: true, dbState: 'open', backendPid,
    send(message: { requestId: number; terminate: number[] }) {
      const terminated = message.terminate.filter((pid) => backends.some((b) => b.pid === pid));
      const listed = backends;
      backends = backends.filter((b) => !terminated.includes(b.pid));
      const answer = { type: 'pcluster:server-connections' as const, requestId: message.requestId, backends: isExitSlow ? listed : backends, terminated };
      queueMicrotask(() => monitor.answered(answer));
      return true;
    },
  });
  return {
    counts, warnings,
    show: (...pids: number[]) => (backends = pids.map((pid) => ({ pid, applicationName: `pcluster:test:${pid}` }))),
    round: (now: number, ...reported: (number | null)[]) => monitor.check(reported.map((pid) => asker(pid) as unknown as WorkerHandle), now),
  };
}

describe('ServerConnectionMonitor: orphaned backends', () => {
  it('does not call a worker\'s fresh connection an orphan before the worker has reported its pid', async () => {
    const h = harness();
    h.show(101, 102);
    await h.round(0, 101, null); // worker 2 has connected (102), its report is still on the way
    await h.round(2_000, 101, 102);
    await h.round(4_000, 101, 102);
    expect(h.counts).to.deep.equal({ mismatched: 0, terminated: 0 });
    expect(h.warnings).to.deep.equal([]);
  });

  it('counts a backend no worker owns in two rounds running once, and terminates it after the grace period', async () => {
    const h = harness(4_000);
    h.show(101, 102, 666);
    await h.round(0, 101, 102);
    expect(h.counts.mismatched, 'first sighting').to.equal(0);
    await h.round(2_000, 101, 102);
    expect(h.counts.mismatched).to.equal(1);
    await h.round(4_000, 101, 102);
    expect(h.counts.terminated, 'still within the grace period').to.equal(0);
    await h.round(6_000, 101, 102);
    await h.round(8_000, 101, 102);
    expect(h.counts).to.deep.equal({ mismatched: 1, terminated: 1 });
    expect(h.warnings).to.deep.equal([
      'PostgreSQL shows a connection of this cluster that no worker holds; terminating it if it stays orphaned',
      'terminated orphaned backends no worker owns',
    ]);
  });

  it('does not count a backend it has just terminated again while that backend is still exiting', async () => {
    const h = harness(2_000, true);
    h.show(101, 102, 666);
    await h.round(0, 101, 102);
    await h.round(2_000, 101, 102); // orphan since 2000
    await h.round(4_000, 101, 102); // terminated; this round's listing still shows it
    await h.round(6_000, 101, 102);
    expect(h.counts).to.deep.equal({ mismatched: 1, terminated: 1 });
    expect(h.warnings).to.deep.equal([
      'PostgreSQL shows a connection of this cluster that no worker holds; terminating it if it stays orphaned',
      'terminated orphaned backends no worker owns',
    ]);
  });
});
