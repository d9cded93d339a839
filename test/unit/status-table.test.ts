import { expect } from 'chai';
import type { StatusReport, WorkerStatusReport } from 'pcluster';
import type { ReloadReport } from 'pcluster/internal/reload-progress';
import { renderStatusTable } from 'pcluster/internal/status-table';

const worker = (slot: number, more: Partial<WorkerStatusReport> = {}): WorkerStatusReport => ({
  slot, pid: 100 + slot, state: 'ready', generation: 1, uptimeSeconds: 5, requests: 0, rssBytes: 50e6, restarts: 0, lastRestartReason: null,
  db: { state: 'open', backendPid: 200 + slot, lastValidatedAt: null }, ...more,
});
const report = (workers: WorkerStatusReport[], reload: ReloadReport | null = null): StatusReport => ({
  name: 'shop', pid: 42, budget: { maxConnections: 9, held: workers.length, server: null }, reload, workers,
});
const reload = (more: Partial<ReloadReport>): ReloadReport => ({
  generation: 2, state: 'in_progress', startedAt: '', workers: 8, booted: 3, failed: 0, lastError: null, ...more,
});

describe('pcluster status as a table', () => {
  it('counts as serving the workers the rows show ready with an open connection, apart from the connection budget', () => {
    const outage = renderStatusTable(report(Array.from({ length: 8 }, (_, i) => worker(i + 1, { db: { state: 'broken', backendPid: null, lastValidatedAt: null } }))));
    expect(outage.split('\n')[0]).to.equal('shop (primary pid 42): 8 workers, 0 serving (ready, database open), connection budget 8/9');
    const mixed = renderStatusTable(report([worker(1), worker(2, { state: 'starting' }), worker(3, { db: { state: 'connecting', backendPid: null, lastValidatedAt: null } })]));
    expect(mixed.split('\n')[0]).to.equal('shop (primary pid 42): 3 workers, 1 serving (ready, database open), connection budget 3/9');
  });

  it('shows a reload under way or failed in its header, and nothing once it is done', () => {
    const lines = (r: ReloadReport): string[] => renderStatusTable(report([worker(1)], r)).split('\n');
    expect(lines(reload({}))[1]).to.equal('reload to generation 2: 3/8 workers at generation 2; in progress');
    expect(lines(reload({ state: 'failed', booted: 0, failed: 5, lastError: 'app.mjs failed to load: no config' }))[1]).to.equal(
      'reload to generation 2: 0/8 workers at generation 2, 5 failed to boot (last: app.mjs failed to load: no config); FAILED; the older workers keep serving and the new ones are retried with a growing delay',
    );
    expect(lines(reload({ state: 'done', booted: 8 }))[1]).to.match(/^slot\s+pid/);
  });
});
