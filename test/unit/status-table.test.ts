import { expect } from 'chai';
import type { StatusReport, WorkerStatusReport } from 'pcluster';
import { renderStatusTable } from 'pcluster/internal/status-table';

const worker = (slot: number, more: Partial<WorkerStatusReport> = {}): WorkerStatusReport => ({
  slot, pid: 100 + slot, state: 'ready', generation: 1, uptimeSeconds: 5, requests: 0, rssBytes: 50e6, restarts: 0, lastRestartReason: null,
  db: { state: 'open', backendPid: 200 + slot, lastValidatedAt: null }, ...more,
});
const report = (workers: WorkerStatusReport[]): StatusReport => ({
  name: 'shop', pid: 42, budget: { maxConnections: 9, held: workers.length, server: null }, workers,
});

describe('pcluster status as a table', () => {
  it('counts as serving the workers the rows show ready with an open connection, apart from the connection budget', () => {
    const outage = renderStatusTable(report(Array.from({ length: 8 }, (_, i) => worker(i + 1, { db: { state: 'broken', backendPid: null, lastValidatedAt: null } }))));
    expect(outage.split('\n')[0]).to.equal('shop (primary pid 42): 8 workers, 0 serving (ready, database open), connection budget 8/9');
    const mixed = renderStatusTable(report([worker(1), worker(2, { state: 'starting' }), worker(3, { db: { state: 'connecting', backendPid: null, lastValidatedAt: null } })]));
    expect(mixed.split('\n')[0]).to.equal('shop (primary pid 42): 3 workers, 1 serving (ready, database open), connection budget 3/9');
  });
});
