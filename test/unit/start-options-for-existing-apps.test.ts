import { expect } from 'chai';
import { resolveEnvFiles, resolveStartOptions, UsageError, type ResolveInput } from 'pcluster/internal/options/index';

const TSX = '/srv/shop/node_modules/tsx/dist/loader.mjs';
const input = (overrides: Partial<ResolveInput> = {}): ResolveInput => ({
  app: 'app.js', flags: {}, env: {}, fileConfig: undefined, configPath: 'pcluster.json', cwd: '/srv/shop',
  isTTY: false, availableParallelism: 4, fileExists: () => true, resolveFrom: () => TSX, ...overrides,
});

describe('start options for existing apps (issue 26)', () => {
  it('--pg-compat: on by default, off from a flag or the config file, flag first', () => {
    expect(resolveStartOptions(input({ flags: { pgCompat: 'off' } })).pgCompat).to.equal('off');
    expect(resolveStartOptions(input({ fileConfig: { 'pg-compat': 'off' } })).pgCompat).to.equal('off');
    expect(resolveStartOptions(input({ fileConfig: { 'pg-compat': 'off' }, flags: { pgCompat: 'on' } })).pgCompat).to.equal('on');
  });

  it('port and host are explicit when a flag, PORT or the config file gave them', () => {
    const explicit = (overrides: Partial<ResolveInput>): [boolean, boolean] => {
      const o = resolveStartOptions(input(overrides));
      return [o.isPortExplicit, o.isHostExplicit];
    };
    expect(explicit({})).to.deep.equal([false, false]);
    expect(explicit({ flags: { port: '8000' } })).to.deep.equal([true, false]);
    expect(explicit({ env: { PORT: '8000' } })).to.deep.equal([true, false]);
    expect(explicit({ fileConfig: { port: 8000 } })).to.deep.equal([true, false]);
    expect(explicit({ flags: { host: '127.0.0.1' } })).to.deep.equal([false, true]);
    expect(explicit({ fileConfig: { host: '127.0.0.1' } })).to.deep.equal([false, true]);
    expect(explicit({ env: { HOST: '127.0.0.1' } }), 'HOST is not one of pcluster\'s variables').to.deep.equal([false, false]);
  });

  it('the database is configured by --database-url, DATABASE_URL, the config file, --embedded-postgres or PGHOST/PGPORT/PGDATABASE/PGUSER', () => {
    const configured = (overrides: Partial<ResolveInput>): boolean => resolveStartOptions(input(overrides)).isDatabaseConfigured;
    expect(configured({ env: { USER: 'me', HOME: '/root' } })).to.equal(false);
    expect(configured({ flags: { databaseUrl: 'postgres://a@b/c' } })).to.equal(true);
    expect(configured({ env: { DATABASE_URL: 'postgres://a@b/c' } })).to.equal(true);
    expect(configured({ fileConfig: { 'database-url': 'postgres://a@b/c' } })).to.equal(true);
    expect(configured({ flags: { embeddedPostgres: true } })).to.equal(true);
    for (const name of ['PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER']) expect(configured({ env: { [name]: 'x' } }), name).to.equal(true);
    // Alone these name no server: an app whose own Pool config names one may rely on them for the password or TLS.
    for (const name of ['PGPASSWORD', 'PGSSLMODE', 'PGAPPNAME', 'PGHOSTADDR']) expect(configured({ env: { [name]: 'x' } }), name).to.equal(false);
    expect(configured({ env: { PGHOST: '' } }), 'an empty variable is unset').to.equal(false);
  });

  it('--env-file: the flags\' files, else the config file\'s (a string or a list), resolved against the directory', () => {
    expect(resolveEnvFiles({ flags: {}, fileConfig: undefined, cwd: '/srv/shop' })).to.deep.equal({ files: [], source: '--env-file' });
    expect(resolveEnvFiles({ flags: { envFile: ['.env', '/etc/shop.env'] }, fileConfig: { 'env-file': 'other.env' }, cwd: '/srv/shop' }))
      .to.deep.equal({ files: ['/srv/shop/.env', '/etc/shop.env'], source: '--env-file' });
    expect(resolveEnvFiles({ flags: {}, fileConfig: { 'env-file': 'other.env' }, configPath: 'pcluster.json', cwd: '/srv/shop' }))
      .to.deep.equal({ files: ['/srv/shop/other.env'], source: '"env-file" in pcluster.json' });
    expect(resolveStartOptions(input({ fileConfig: { envFile: ['a.env', 'b.env'] } })).envFiles).to.deep.equal(['/srv/shop/a.env', '/srv/shop/b.env']);
  });

  describe('a TypeScript app', () => {
    it('runs through the app\'s own tsx: its loader comes first among the worker node arguments', () => {
      const asked: [string, string][] = [];
      const resolveFrom = (specifier: string, from: string): string => (asked.push([specifier, from]), TSX);
      for (const app of ['app.ts', 'app.mts', 'app.cts']) {
        const o = resolveStartOptions(input({ app, resolveFrom, flags: { nodeArg: ['--max-old-space-size=512'] } }));
        expect(o.nodeArgs).to.deep.equal([`--import=file://${TSX}`, '--max-old-space-size=512']);
      }
      expect(asked[0], 'looked up from the app file itself').to.deep.equal(['tsx', '/srv/shop/app.ts']);
      expect(resolveStartOptions(input({ app: 'app.js' })).nodeArgs, 'JavaScript gets nothing').to.deep.equal([]);
    });

    it('gets no loader of pcluster\'s when the user already chose one, by --node-arg, the primary\'s node options or NODE_OPTIONS', () => {
      const none = (overrides: Partial<ResolveInput>): readonly string[] =>
        resolveStartOptions(input({ app: 'app.ts', resolveFrom: () => undefined, ...overrides })).nodeArgs;
      for (const arg of ['--import=tsx', '--import', '--loader=ts-node/esm', '--experimental-loader=x', '--require=ts-node/register', '-r', '--experimental-strip-types']) {
        expect(none({ flags: { nodeArg: [arg] } }), arg).to.deep.equal([arg]);
      }
      expect(none({ execArgv: ['--import', 'tsx'] })).to.deep.equal([]);
      expect(none({ env: { NODE_OPTIONS: '--max-old-space-size=512 --import=tsx' } })).to.deep.equal([]);
    });

    it('without a tsx it can reach is refused with one line naming the app and the fix', () => {
      let caught: unknown;
      try {
        resolveStartOptions(input({ app: 'src/app.ts', resolveFrom: () => undefined }));
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(UsageError);
      const { message } = caught as UsageError;
      expect(message).not.to.include('\n');
      expect(message).to.include('/srv/shop/src/app.ts').and.to.include('npm install --save-dev tsx').and.to.include('--node-arg=--import=<loader>');
    });
  });
});
