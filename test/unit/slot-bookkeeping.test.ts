import { expect } from 'chai';
import { commandForSignal, isControlRequest } from 'pcluster/internal/control-protocol';
import { STABLE_AFTER_READY_MS } from 'pcluster/internal/decide';
import { emptySlot, forkFailure, scheduleRespawn } from 'pcluster/internal/slot';

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`spawn /usr/bin/node ${code}`), { code });

describe('a refused fork, as the user reads it', () => {
  it('names the slot, the errno and the limit to raise', () => {
    expect(forkFailure(3, errno('EMFILE'))).to.deep.equal({
      code: 'PCLUSTER_FORK_FAILED',
      message: "could not start worker 3's process (EMFILE): the primary is out of file descriptors: raise its open-file limit (ulimit -n, LimitNOFILE=)",
    });
    expect(forkFailure(1, errno('EAGAIN')).message).to.include('(EAGAIN)').and.include('ulimit -u');
    expect(forkFailure(1, errno('ENOMEM')).message).to.include('lower --workers');
  });

  it('still says what happened for an errno it has no advice for', () => {
    expect(forkFailure(2, errno('EPERM')).message).to.equal("could not start worker 2's process (EPERM): see the error code; pcluster retries with a growing delay");
    expect(forkFailure(2, new Error('odd')).message).to.include('(unknown error)');
  });
});

describe("a slot's respawn backoff", () => {
  it('grows with each failure in a row and starts again after a worker that served long enough', () => {
    const slot = emptySlot(1);
    const now = 1_000_000;
    const delays = [1, 2, 3, 4].map(() => scheduleRespawn(slot, { readyAt: undefined }, now));
    expect(delays[0]).to.equal(0);
    for (let i = 1; i < delays.length; i++) expect(delays[i]!).to.be.greaterThan(delays[i - 1]!);
    expect(slot.respawnAt).to.equal(now + delays[3]!);
    expect(scheduleRespawn(slot, { readyAt: now - STABLE_AFTER_READY_MS }, now)).to.equal(0);
    expect(slot.consecutiveFailures).to.equal(1);
    expect(scheduleRespawn(slot, { readyAt: now - 10 }, now), 'a worker that died soon after ready counts on').to.be.greaterThan(0);
  });
});

describe('signals to the primary', () => {
  it('stand for the control commands, as in gunicorn', () => {
    expect(commandForSignal('SIGTERM', 4)).to.deep.equal({ command: 'stop' });
    expect(commandForSignal('SIGINT', 4)).to.deep.equal({ command: 'stop' });
    expect(commandForSignal('SIGHUP', 4)).to.deep.equal({ command: 'reload' });
    expect(commandForSignal('SIGTTIN', 4)).to.deep.equal({ command: 'scale', workers: 5 });
    expect(commandForSignal('SIGTTOU', 1)).to.deep.equal({ command: 'scale', workers: 0 });
  });
});

describe('control requests', () => {
  it('take --wait on reload and stop only, as a boolean', () => {
    expect(isControlRequest({ command: 'reload', wait: true })).to.equal(true);
    expect(isControlRequest({ command: 'stop', wait: false })).to.equal(true);
    expect(isControlRequest({ command: 'stop' })).to.equal(true);
    expect(isControlRequest({ command: 'reload', wait: 'yes' })).to.equal(false);
    expect(isControlRequest({ command: 'status', wait: true })).to.equal(false);
    expect(isControlRequest({ command: 'scale', workers: 2, wait: true })).to.equal(false);
  });
});
