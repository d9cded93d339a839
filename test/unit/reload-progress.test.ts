import { expect } from 'chai';
import { reloadAnswer, ReloadProgress, reloadState, type ReloadReport } from 'pcluster/internal/reload-progress';

const live = (...workers: [phase: number, isReady: boolean][]) => workers.map(([phase, isReady]) => ({ phase, isReady }));

describe('where a rolling reload stands', () => {
  it('is done once every wanted worker serves at the new generation and no older one is left, draining ones included', () => {
    const facts = { workers: 2, booted: 2, olderAlive: 0, failuresInARow: 0, hasReportedFailure: false };
    expect(reloadState(facts)).to.equal('done');
    expect(reloadState({ ...facts, olderAlive: 1 }), 'an old worker still draining').to.equal('in_progress');
    expect(reloadState({ ...facts, booted: 1 })).to.equal('in_progress');
  });

  it('has failed on a reported boot failure at once, on silent deaths only when as many as the workers died in a row', () => {
    const facts = { workers: 3, booted: 0, olderAlive: 3, failuresInARow: 1, hasReportedFailure: true };
    expect(reloadState(facts)).to.equal('failed');
    expect(reloadState({ ...facts, hasReportedFailure: false })).to.equal('in_progress');
    expect(reloadState({ ...facts, hasReportedFailure: false, failuresInARow: 3 })).to.equal('failed');
  });
});

describe('the books of a reload', () => {
  it('are null before the first reload, then count the boots and failures of the new generation only', () => {
    const progress = new ReloadProgress();
    expect(progress.report(2, live([1, true], [1, true]))).to.equal(null);
    progress.begin(2, Date.parse('2026-12-06T04:00:00Z'));
    progress.noteBootFailure(1, 'an old worker that crashed is not this reload', true);
    progress.noteBootFailure(2, '/srv/app.mjs failed to load: broken deploy\n    at file:///srv/app.mjs:1:7', true);
    expect(progress.report(2, live([1, true], [1, true]))).to.deep.equal({
      generation: 2, state: 'failed', startedAt: '2026-12-06T04:00:00.000Z', workers: 2, booted: 0, failed: 1, lastError: '/srv/app.mjs failed to load: broken deploy',
    });
  });

  it('leave failed once a replacement boots (the app was fixed meanwhile), and stay done after', () => {
    const progress = new ReloadProgress();
    progress.begin(2, 0);
    progress.noteBootFailure(2, 'broken', true);
    progress.noteBooted(2);
    expect(progress.report(2, live([2, true], [1, true]))).to.include({ state: 'in_progress', booted: 1, failed: 1, lastError: 'broken' });
    expect(progress.report(2, live([2, true], [2, true]))).to.include({ state: 'done', booted: 2 });
    progress.noteBootFailure(2, 'a later crash respawn that fails', true);
    expect(progress.report(2, live([2, true]))).to.include({ state: 'done', failed: 1 });
  });

  it('start again with the next reload', () => {
    const progress = new ReloadProgress();
    progress.begin(2, 0);
    progress.noteBootFailure(2, 'broken', true);
    progress.begin(3, 0);
    expect(progress.report(2, live([1, true], [1, true]))).to.include({ generation: 3, state: 'in_progress', failed: 0, lastError: null });
  });
});

describe('the answer to reload --wait', () => {
  const report = (more: Partial<ReloadReport>): ReloadReport => ({
    generation: 3, state: 'in_progress', startedAt: '', workers: 4, booted: 1, failed: 0, lastError: null, ...more,
  });
  it('waits while in progress, says done, or fails with the app\'s error in one line', () => {
    expect(reloadAnswer(report({}), false)).to.equal(undefined);
    expect(reloadAnswer(report({ state: 'done', booted: 4 }), false)).to.deep.equal({ ok: true, message: 'reload done: 4 workers at generation 3' });
    const failed = reloadAnswer(report({ state: 'failed', failed: 2, lastError: 'app.mjs failed to load: no config' }), false);
    expect(failed).to.deep.equal({
      ok: false, error: 'reload to generation 3 failed: app.mjs failed to load: no config; the older workers keep serving and the new ones are retried with a growing delay',
    });
    expect(reloadAnswer(report({}), true)).to.deep.equal({ ok: false, error: 'the cluster is stopping: the reload to generation 3 did not finish' });
  });
});
