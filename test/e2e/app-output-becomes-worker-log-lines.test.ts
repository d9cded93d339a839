import { expect } from 'chai';
import { startCluster, fixture, type LogLine } from '../support/cluster-process.js';
import { clusterStatus } from '../support/status.js';
import { waitFor } from '../support/wait-for.js';

const LEVEL = { info: 30, error: 50 } as const;

describe("the app's own stdout and stderr", () => {
  it('become JSON log lines of their worker (worker slot, pid, level), one per whole line, never mixed between workers', async () => {
    const cluster = await startCluster(fixture('prints-to-console.mjs'), { workers: 2 });
    const slotOf = new Map((await clusterStatus(cluster)).workers.map((w) => [w.pid, w.slot]));
    const get = async (path: string): Promise<number> => ((await (await fetch(`${cluster.url}${path}`)).json()) as { workerPid: number }).workerPid;
    const fromWorker = (pid: number) => ({ worker: slotOf.get(pid), pid });
    const linesWith = (predicate: (msg: string) => boolean): LogLine[] => cluster.logs().filter((line) => typeof line.msg === 'string' && predicate(line.msg));

    const outPid = await get('/log?text=hello%20from%20console.log');
    const errPid = await get('/error?text=hello%20from%20console.error');
    const out = await cluster.waitForLog((line) => line.msg === 'hello from console.log', 10_000);
    expect(out).to.include({ ...fromWorker(outPid), level: LEVEL.info, stream: 'stdout' });
    const err = await cluster.waitForLog((line) => line.msg === 'hello from console.error', 10_000);
    expect(err).to.include({ ...fromWorker(errPid), level: LEVEL.error, stream: 'stderr' });

    // Express's default error handler writes the stack to stderr: every line of it is a line of that worker.
    expect((await fetch(`${cluster.url}/throw`)).status).to.equal(500);
    const thrown = await cluster.waitForLog((line) => line.msg === 'Error: express default handler boom', 10_000);
    expect(thrown).to.include({ level: LEVEL.error, stream: 'stderr' }).and.to.have.property('pid').that.is.a('number');
    await waitFor(() => linesWith((msg) => /^\s+at /.test(msg)).some((line) => line.pid === thrown['pid']), 10_000, 'the stack lines');
    for (const line of linesWith((msg) => /^\s+at /.test(msg))) expect(line).to.include({ worker: thrown['worker'], level: LEVEL.error });

    const halvesPid = await get('/halves');
    expect(await cluster.waitForLog((line) => line.msg === 'first half, second half', 10_000)).to.include(fromWorker(halvesPid));
    const binaryPid = await get('/binary');
    const binary = await cluster.waitForLog((line) => typeof line.msg === 'string' && line.msg.startsWith('binary:'), 10_000);
    expect(binary).to.include(fromWorker(binaryPid));
    expect(binary.msg).to.equal('binary:\u0000\u0001\u001b\ufffd\ufffd\ufffd');

    // A line far longer than a pipe's buffer arrives whole, in pieces of bounded size, none lost.
    const hugePid = await get('/huge?length=300000');
    await waitFor(() => linesWith((msg) => /^x+$/.test(msg)).reduce((sum, line) => sum + line.msg!.length, 0) === 300_000, 10_000, 'the huge line');
    const pieces = linesWith((msg) => /^x+$/.test(msg));
    expect(pieces.length).to.be.within(2, 20);
    for (const piece of pieces) expect(piece).to.include(fromWorker(hugePid));

    // Both workers write bursts at once: every line arrives whole, under its own worker.
    const lines = 1500;
    const burstPids = new Set(await Promise.all(Array.from({ length: 8 }, () => get(`/burst?lines=${lines}`))));
    const pad = '.'.repeat(300);
    await waitFor(() => linesWith((msg) => msg.startsWith('burst ')).length === 8 * lines, 20_000, 'every burst line');
    for (const line of linesWith((msg) => msg.startsWith('burst '))) {
      const [, pid, , rest] = line.msg!.split(' ');
      expect(line).to.include(fromWorker(Number(pid)));
      expect(rest).to.equal(pad);
    }
    expect(burstPids.size, 'the bursts reached both workers').to.equal(2);

    // pcluster's own log lines from a worker are not wrapped again as app output.
    const setupLines = cluster.logs().filter((line) => line.msg === 'setup logs through pcluster');
    expect(setupLines.map((line) => line.worker).sort()).to.deep.equal([1, 2]);
    for (const line of setupLines) expect(line).to.include({ fixture: true, level: LEVEL.info }).and.not.to.have.property('stream');
    expect(linesWith((msg) => msg.trimStart().startsWith('{"'))).to.deep.equal([]);

    expect((await cluster.stop()).code).to.equal(0);
    // An unterminated last line is not lost at exit.
    for (const pid of slotOf.keys()) expect(cluster.logs().find((line) => line.msg === `bye from ${pid} without a newline`), String(pid)).to.include(fromWorker(pid!));
    const unparsable = cluster.stdout.split('\n').filter((line) => line !== '' && !isJsonObject(line));
    expect(unparsable, 'every line the cluster printed is a JSON log line').to.deep.equal([]);
    expect(cluster.stderr).not.to.include('hello from console.error');
  });
});

function isJsonObject(line: string): boolean {
  try {
    return typeof JSON.parse(line) === 'object';
  } catch {
    return false;
  }
}
