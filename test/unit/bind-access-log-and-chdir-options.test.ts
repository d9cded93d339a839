import { expect } from 'chai';
import { resolveChdir, resolveStartOptions } from 'pcluster/internal/options/index';
import { refusal, startInput } from '../support/start-input.js';

describe('--bind, --access-log, --user/--group and --chdir options', () => {
  it('are off by default', () => {
    expect(resolveStartOptions(startInput())).to.deep.include({ bindPath: undefined, accessLog: undefined, user: undefined, group: undefined });
    expect(resolveChdir({ flags: {}, fileConfig: undefined, cwd: '/srv', isDirectory: () => true })).to.equal(undefined);
  });

  it('resolve relative paths from the working directory; - is the log stream; names pass through', () => {
    const o = resolveStartOptions(startInput({ flags: { bind: 'unix:run/shop.sock', accessLog: 'logs/access.log', user: 'www-data', group: 'www-data' } }));
    expect(o).to.deep.include({ bindPath: '/srv/shop/run/shop.sock', accessLog: '/srv/shop/logs/access.log', user: 'www-data', group: 'www-data' });
    expect(resolveStartOptions(startInput({ flags: { accessLog: '-' } })).accessLog).to.equal('-');
    expect(resolveStartOptions(startInput({ fileConfig: { 'access-log': '-', bind: 'unix:/run/a.sock' } })).bindPath).to.equal('/run/a.sock');
  });

  it('--bind takes unix:<path> only, and not beside --port or --host (PORT from the environment is ignored)', () => {
    for (const bad of ['127.0.0.1:8000', 'unix:', 'tcp://0.0.0.0:80', '']) {
      expect(refusal(() => resolveStartOptions(startInput({ flags: { bind: bad } })))).to.match(/^--bind: .* is not valid; expected unix:<path>/);
    }
    expect(refusal(() => resolveStartOptions(startInput({ flags: { bind: 'unix:/run/a.sock', port: '3000' } })))).to.equal(
      '--bind unix:/run/a.sock and --port both say where to serve; give only one',
    );
    expect(refusal(() => resolveStartOptions(startInput({ flags: { bind: 'unix:/run/a.sock' }, fileConfig: { host: '0.0.0.0' } })))).to.match(/and "host" in pcluster\.json both say/);
    expect(resolveStartOptions(startInput({ flags: { bind: 'unix:/run/a.sock' }, env: { PORT: '8080' } })).bindPath).to.equal('/run/a.sock');
  });

  it('--chdir: flag over config file, relative to where pcluster started; not a directory is refused naming it', () => {
    const isDirectory = (dir: string): boolean => dir.startsWith('/srv/');
    expect(resolveChdir({ flags: { chdir: 'app' }, fileConfig: { chdir: '/srv/other' }, cwd: '/srv', isDirectory })).to.equal('/srv/app');
    expect(resolveChdir({ flags: {}, fileConfig: { chdir: '/srv/other' }, cwd: '/srv', isDirectory })).to.equal('/srv/other');
    expect(refusal(() => resolveChdir({ flags: { chdir: '/nope' }, fileConfig: undefined, cwd: '/srv', isDirectory }))).to.equal(
      '--chdir: /nope is not a directory; give the directory to load the app from',
    );
  });
});
