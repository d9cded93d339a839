import { expect } from 'chai';
import { spawnCluster, fixture } from '../support/cluster-process.js';

/** stderr lines that are not blank. */
const lines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');

describe('bad input exits with one clear line and the documented status', () => {
  const usage: { args: string[]; mentions: RegExp; app?: string }[] = [
    { args: ['--workers', '0'], mentions: /--workers.*"0"/ },
    { args: ['--workers', '-3'], mentions: /--workers.*-3/ },
    { args: ['--timeout', 'banana'], mentions: /--timeout.*banana/ },
    { args: ['--pipeline-depth', '0'], mentions: /--pipeline-depth.*\b0\b/ },
    { args: ['--pipeline-depth', '-1'], mentions: /--pipeline-depth.*-1\b/ },
    { args: ['--pipeline-depth', 'abc'], mentions: /--pipeline-depth.*abc/ },
    { args: ['--pg-compat', 'maybe'], mentions: /--pg-compat: "maybe" is not valid; expected one of on, off/ },
    { args: ['--wrokers', '2'], mentions: /wrokers/ },
    { args: [], mentions: /not found.*missing-app\.js/, app: 'missing-app.js' },
  ];
  for (const { args, mentions, app } of usage) {
    it(`exit 2: ${app ?? ''} ${args.join(' ')}`, async () => {
      const cluster = await spawnCluster(app ?? fixture('routes.mjs'), { args });
      const { code } = await cluster.exited;
      expect(code).to.equal(2);
      expect(lines(cluster.stderr), cluster.stderr).to.have.length(1);
      expect(cluster.stderr).to.match(mentions);
      expect(cluster.stdout, 'nothing was forked').not.to.match(/worker/);
    });
  }

  it('exit 3: a module with no handler names the module and what it exports', async () => {
    const cluster = await spawnCluster(fixture('no-handler.mjs'), { workers: 2 });
    expect((await cluster.exited).code).to.equal(3);
    expect(lines(cluster.stderr), cluster.stderr).to.have.length(1);
    expect(cluster.stderr).to.include('no-handler.mjs').and.to.include('answer: number').and.to.include('config: object');
  });

  it('exit 3: a module that throws at load prints the app\'s error once, with no fork storm', async () => {
    const cluster = await spawnCluster(fixture('throws-at-load.mjs'), { workers: 2 });
    expect((await cluster.exited).code).to.equal(3);
    const mentions = cluster.stderr.split('fixture failed at load: missing SETTING_X').length - 1;
    expect(mentions, cluster.stderr).to.be.within(1, 2); // the one line, and the app's own stack below it
    expect(lines(cluster.stderr)[0]).to.match(/^pcluster: .*throws-at-load\.mjs failed to load: fixture failed at load: missing SETTING_X$/);
    expect(cluster.logs().filter((line) => line.msg === 'worker died; replacing it')).to.have.length(0);
  });

  it('exit 3: a setup() that never settles is given --timeout (after the connect), then named in one line', async () => {
    const cluster = await spawnCluster(fixture('setup-hangs.mjs'), { workers: 2, args: ['--timeout', '1s'] });
    expect((await cluster.exited).code).to.equal(3);
    expect(lines(cluster.stderr)[0], cluster.stderr).to.match(
      /^pcluster: worker \d did not connect, load the app, run setup\(\) and listen within 6s \(--wait-for-db \+ 5s \+ --timeout\); a setup\(\) that never settles\? raise --timeout/,
    );
  });

  it('exit 3: a module that exits at load without a word: once every worker has died, not a fork storm', async () => {
    const cluster = await spawnCluster(fixture('exits-at-load.mjs'), { workers: 2 });
    expect((await cluster.exited).code).to.equal(3);
    expect(lines(cluster.stderr)[0], cluster.stderr).to.match(/^pcluster: worker \d exited \(code 1\) before it became ready$/);
    expect(cluster.logs().filter((line) => line.msg === 'worker died; replacing it').length).to.be.at.most(1);
  });

  const appFailures: { file: string; says: RegExp }[] = [
    { file: 'default-number.mjs', says: /default-number\.mjs exports no request listener, Fastify instance or "handler" function \(it exports default: number\)/ },
    { file: 'syntax-error.mjs', says: /syntax-error\.mjs failed to load: .*(Unexpected token|SyntaxError|missing \))/ },
    { file: 'setup-throws.mjs', says: /setup-throws\.mjs: setup\(\) failed: setup failed: the cache server is unreachable/ },
  ];
  for (const { file, says } of appFailures) {
    it(`exit 3: ${file}, with its own error in the first line`, async () => {
      const cluster = await spawnCluster(fixture(file), { workers: 2 });
      expect((await cluster.exited).code).to.equal(3);
      expect(lines(cluster.stderr)[0], cluster.stderr).to.match(says);
      expect(cluster.logs().filter((line) => line.msg === 'worker died; replacing it')).to.have.length(0);
    });
  }
});
