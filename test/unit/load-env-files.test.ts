import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadEnvFiles, UsageError } from 'pcluster/internal/options/index';

describe('loadEnvFiles()', () => {
  let dir: string;
  let first: string;
  let second: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pcluster-env-files-'));
    first = path.join(dir, 'first.env');
    second = path.join(dir, 'second.env');
    writeFileSync(first, 'A=first\nB=first\nC=first\n# a comment\nQUOTED="two words"\n');
    writeFileSync(second, 'A=second\nB=second\nexport D=second\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps what the environment has and lets a later file win, returning the names it set', () => {
    const env: NodeJS.ProcessEnv = { B: 'environment', EMPTY: '' };
    const set = loadEnvFiles({ files: [first, second], source: '--env-file' }, env);
    expect(env).to.deep.equal({ A: 'second', B: 'environment', C: 'first', D: 'second', QUOTED: 'two words', EMPTY: '' });
    expect(set.sort()).to.deep.equal(['A', 'C', 'D', 'QUOTED']);
  });

  it('gives what node\'s own --env-file gives for the same files and environment', () => {
    const script = 'process.stdout.write(JSON.stringify(["A","B","C","D","QUOTED"].map((k) => process.env[k])))';
    const fromNode = JSON.parse(execFileSync(process.execPath, [`--env-file=${first}`, `--env-file=${second}`, '-e', script], {
      env: { PATH: process.env['PATH'], B: 'environment' }, encoding: 'utf8',
    })) as string[];
    const env: NodeJS.ProcessEnv = { B: 'environment' };
    loadEnvFiles({ files: [first, second], source: '--env-file' }, env);
    expect(['A', 'B', 'C', 'D', 'QUOTED'].map((k) => env[k])).to.deep.equal(fromNode);
  });

  for (const [what, file, reason] of [['a missing file', 'missing.env', 'file not found'], ['a directory', '.', 'it is a directory']] as const) {
    it(`refuses ${what} with one line naming it, before setting anything`, () => {
      const env: NodeJS.ProcessEnv = {};
      const target = path.join(dir, file);
      let caught: unknown;
      try {
        loadEnvFiles({ files: [first, target], source: '"envFile" in pcluster.json' }, env);
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(UsageError);
      expect((caught as UsageError).message).to.equal(`"envFile" in pcluster.json: cannot read ${target}: ${reason}; give the path of a file of KEY=value lines`);
      expect(env).to.deep.equal({});
    });
  }
});
