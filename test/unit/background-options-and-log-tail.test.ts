import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveStartOptions, UsageError } from 'pcluster/internal/options/index';
import { followFile, readLastLines } from 'pcluster/internal/log-tail';
import { renderClusterTable, type ListedCluster } from 'pcluster/internal/list-clusters';
import { registryDir } from 'pcluster/internal/cluster-registry';
import { removePidFile, writePidFile } from 'pcluster/internal/pid-file';
import { startInput } from '../support/start-input.js';
import { waitFor } from '../support/wait-for.js';

describe('background running: options, log tail, ls table, pid file', () => {
  let dir = '';
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'pcluster-unit-bg-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('--daemon logs to <name>.log beside the control socket, as JSON even from a terminal; --log-file and --pid resolve from the cwd', () => {
    const daemon = resolveStartOptions(startInput({ flags: { daemon: true }, isTTY: true }));
    expect(daemon).to.deep.include({ daemon: true, logFile: '/srv/shop/.pcluster/app.log', logFormat: 'json', pidFile: undefined });
    const file = resolveStartOptions(startInput({ flags: { logFile: 'logs/app.log', pid: 'run/app.pid' } }));
    expect(file).to.deep.include({ daemon: false, logFile: '/srv/shop/logs/app.log', pidFile: '/srv/shop/run/app.pid' });
    expect(resolveStartOptions(startInput({ flags: {} })).logFile).to.equal(undefined);
    expect(resolveStartOptions(startInput({ fileConfig: { daemon: true } })).daemon).to.equal(true);
    expect(() => resolveStartOptions(startInput({ fileConfig: { daemon: 'yes' } }))).to.throw(UsageError, /"daemon" in .*: "yes" is not true or false/);
  });

  it('readLastLines returns the last n lines and where the file ends, across chunk boundaries', () => {
    const file = path.join(dir, 'a.log');
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(40)}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const { text, end } = readLastLines(file, 3);
    expect(text).to.equal(`${lines.slice(-3).join('\n')}\n`);
    expect(end).to.equal(readFileSync(file).length);
    expect(readLastLines(file, 4000).text.split('\n')[0]).to.equal(lines[1000]);
    expect(readLastLines(file, 0).text).to.equal('');
    writeFileSync(file, 'only\nno newline at the end');
    expect(readLastLines(file, 5).text).to.equal('only\nno newline at the end\n');
  });

  it('followFile goes on with the new file after a rename, as tail -F', async () => {
    const file = path.join(dir, 'b.log');
    writeFileSync(file, 'old\n');
    let seen = '';
    const stop = new AbortController();
    const following = followFile(file, 4, (text) => (seen += text), stop.signal, 10);
    appendFileSync(file, 'one\n');
    await waitFor(() => seen === 'one\n', 5_000, 'the appended line');
    renameSync(file, `${file}.1`);
    appendFileSync(`${file}.1`, 'late write to the old file\n');
    writeFileSync(file, 'two\n');
    await waitFor(() => seen.endsWith('two\n'), 5_000, 'the new file');
    expect(seen).to.equal('one\nlate write to the old file\ntwo\n');
    stop.abort();
    await following;
  });

  it('ls renders one row per cluster like pm2 ls; workers unknown show as ?', () => {
    const base = { app: '/srv/a/app.js', controlSocket: '/srv/a/.pcluster/a.sock', workers: 2, startedAt: '2026-01-01T00:00:00Z' };
    const clusters: ListedCluster[] = [
      { ...base, name: 'shop', pid: 101, cwd: '/srv/shop', logFile: '/srv/shop/.pcluster/shop.log', uptimeSeconds: 7200, workersReady: 3, workersTotal: 4 },
      { ...base, name: 'api', pid: 202, cwd: '/srv/api', logFile: null, uptimeSeconds: 42, workersReady: null, workersTotal: null },
    ];
    expect(renderClusterTable(clusters).split('\n')).to.deep.equal([
      'name  pid  workers  uptime  cwd        log',
      'shop  101  3/4      2h      /srv/shop  /srv/shop/.pcluster/shop.log',
      'api   202  ?        42s     /srv/api   stdout',
    ]);
    expect(registryDir({ XDG_RUNTIME_DIR: '/run/user/1000' })).to.equal('/run/user/1000/pcluster');
    expect(registryDir({})).to.equal(path.join(os.tmpdir(), `pcluster-${process.getuid!()}`));
  });

  it('a pid file naming a dead process, or a live one that is no pcluster, is replaced; removal leaves another pid alone', () => {
    const file = path.join(dir, 'app.pid');
    writeFileSync(file, '999999999\n');
    writePidFile(file);
    expect(readFileSync(file, 'utf8')).to.equal(`${process.pid}\n`);
    removePidFile(file);
    expect(existsSync(file)).to.equal(false);
    writeFileSync(file, '1\n'); // pid 1 runs, and is not a pcluster
    writePidFile(file);
    writeFileSync(file, '12345\n');
    removePidFile(file);
    expect(readFileSync(file, 'utf8')).to.equal('12345\n');
  });

  it('a pid file naming a live pcluster is refused with exit 2', async () => {
    const file = path.join(dir, 'app.pid');
    // Any live process whose command line says pcluster (a primary's title does).
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', 'pcluster primary app'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => other.once('spawn', resolve));
      writeFileSync(file, `${other.pid}\n`);
      expect(() => writePidFile(file)).to.throw(UsageError, `--pid ${file}: pcluster pid ${other.pid} is running with this pid file; stop it first, or give another --pid`);
      expect(readFileSync(file, 'utf8')).to.equal(`${other.pid}\n`);
    } finally {
      other.kill('SIGKILL');
    }
  });
});
