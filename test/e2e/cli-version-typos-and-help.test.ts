import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, REPO_ROOT, fixture } from '../support/cluster-process.js';

/** Runs the pcluster CLI; resolves with its exit code and output whatever the code. */
function pcluster(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: REPO_ROOT }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }));
  });
}

const PACKAGE_VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'packages/supervisor/package.json'), 'utf8')) as { version: string }).version;

describe('the command line answers as PM2 and gunicorn users expect', () => {
  it('--version and -v print the package version and exit 0', async () => {
    const [long, short] = await Promise.all([pcluster(['--version']), pcluster(['-v'])]);
    for (const result of [long, short]) {
      expect(result.code).to.equal(0);
      expect(result.stdout.trim()).to.equal(PACKAGE_VERSION);
    }
  });

  it('a mistyped flag: exit 2, one line with "did you mean --workers?", before anything is forked', async () => {
    const [result, status] = await Promise.all([pcluster(['start', fixture('routes.mjs'), '--wrokers', '2']), pcluster(['status', '--jsno'])]);
    expect(result.code).to.equal(2);
    expect(result.stderr.trim().split('\n')).to.deep.equal(['pcluster: Unknown argument: wrokers; did you mean --workers? (see pcluster start --help)']);
    expect(status.code).to.equal(2);
    expect(status.stderr).to.include('did you mean --json?');
  });

  it('a mistyped command: exit 2, one line naming it and the command meant', async () => {
    const [result, unlike] = await Promise.all([pcluster(['statsu']), pcluster(['frobnicate'])]);
    expect(result.code).to.equal(2);
    expect(result.stderr.trim().split('\n')).to.deep.equal(['pcluster: unknown command "statsu": Did you mean status? (see pcluster --help)']);
    expect(unlike.code).to.equal(2);
    expect(unlike.stderr.trim(), 'a word like no command gets no suggestion').to.equal('pcluster: unknown command "frobnicate" (see pcluster --help)');
  });

  it('start --help shows defaults as [default: …] and examples as e.g., never both in (…)', async () => {
    const { code, stdout } = await pcluster(['start', '--help']);
    expect(code).to.equal(0);
    const help = stdout.replace(/\s+/g, ' ');
    expect(help).to.match(/--timeout replace a worker whose event loop does not answer for this long \(at least 1s; a bare number is seconds\) \[string\] \[default: 30s\]/);
    expect(help).to.match(/--max-memory recycle a worker whose RSS exceeds this size, e\.g\. 512MB \[string\] \[default: off\]/);
    expect(help).to.include('[default: workers + 1]').and.include('[default: 9091]');
    expect(help, 'a duration or size in parentheses reads as a default or an example alike').not.to.match(/\((\d+(ms|s|m|h|MB)|default )/);
  });
});
