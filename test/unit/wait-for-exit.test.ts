import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { hasExited, waitForExit } from 'pcluster/internal/wait-for-exit';

describe('waiting for a process to exit (stop --wait)', () => {
  it('sees a live process as alive, and one that has exited as gone, zombie or reaped', async () => {
    expect(hasExited(process.pid)).to.equal(false);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      expect(await waitForExit(child.pid!, 0), 'alive at the deadline').to.equal(false);
      child.kill('SIGKILL');
      expect(await waitForExit(child.pid!, 30_000)).to.equal(true);
    } finally {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    }
  });
});
