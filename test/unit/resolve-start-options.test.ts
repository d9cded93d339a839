import { expect } from 'chai';
import { startInput } from '../support/start-input.js';
import { parseSize, resolveStartOptions, UsageError, type ResolveInput } from 'pcluster/internal/options/index';

const input = (overrides: Partial<ResolveInput> = {}): ResolveInput => startInput({ availableParallelism: 4, ...overrides });

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(UsageError);
    const usage = error as UsageError;
    expect(usage.exitCode).to.equal(2);
    expect(usage.message, 'one line').not.to.include('\n');
    return usage;
  }
  throw new Error('expected a UsageError');
}

describe('resolveStartOptions()', () => {
  it('applies every SPEC §1 default', () => {
    const o = resolveStartOptions(input());
    expect(o).to.deep.include({
      appPath: '/srv/shop/app.js', name: 'app', workers: 4, port: 3000, host: '0.0.0.0', databaseUrl: undefined, embeddedPostgres: undefined,
      metricsPort: 9091, metricsHost: '127.0.0.1', maxRequests: 0, maxRequestsJitter: 0, maxMemoryBytes: undefined, maxAgeMs: undefined,
      timeoutMs: 30_000, gracefulTimeoutMs: 30_000, maxConnections: 5, isMaxConnectionsExplicit: false, leaseTimeoutMs: 5_000,
      validateAfterMs: 1_000, validationTimeoutMs: 2_000, connectionMaxAgeMs: 1_800_000, leakThresholdMs: 10_000, prepare: 'auto',
      pipelineDepth: 32, waitForDbMs: 0, keepaliveTimeoutMs: 60_000, appName: 'pcluster:app', logFormat: 'json', controlSocket: '/srv/shop/.pcluster/app.sock',
      pgCompat: 'on', isPortExplicit: false, isHostExplicit: false, isDatabaseConfigured: false,
    });
    expect(o.envFiles).to.deep.equal([]);
    expect(o.session).to.deep.equal({});
    expect(o.nodeArgs).to.deep.equal([]);
    expect(resolveStartOptions(input({ isTTY: true })).logFormat).to.equal('pretty');
  });

  it('takes a flag over the environment over the config file over the default', () => {
    const fileConfig = { port: 4000, 'database-url': 'postgres://file@db/x', workers: 2 };
    const env = { PORT: '5000', DATABASE_URL: 'postgres://env@db/x' };
    expect(resolveStartOptions(input({ fileConfig })).port).to.equal(4000);
    expect(resolveStartOptions(input({ fileConfig, env })).port).to.equal(5000);
    expect(resolveStartOptions(input({ fileConfig, env, flags: { port: '6000' } })).port).to.equal(6000);
    expect(resolveStartOptions(input({ fileConfig })).databaseUrl).to.equal('postgres://file@db/x');
    expect(resolveStartOptions(input({ fileConfig, env })).databaseUrl).to.equal('postgres://env@db/x');
    expect(resolveStartOptions(input({ fileConfig, env, flags: { databaseUrl: 'postgres://flag@db/x' } })).databaseUrl).to.equal('postgres://flag@db/x');
    expect(resolveStartOptions(input({ fileConfig, env: { WORKERS: '9' } })).workers, 'only PORT and DATABASE_URL come from the environment').to.equal(2);
  });

  it('parses every kind of value', () => {
    const o = resolveStartOptions(input({
      flags: {
        workers: 'auto', maxMemory: '512MB', maxAge: '6h', timeout: '1500ms', session: ['statement_timeout=5s', 'search_path=a,b'],
        nodeArg: ['--import=tsx'], prepare: 'auto', embeddedPostgres: true, maxConnections: '9',
      },
    }));
    expect(o.workers).to.equal(4);
    expect(o.maxMemoryBytes).to.equal(512 * 1024 * 1024);
    expect(o.maxAgeMs).to.equal(6 * 3_600_000);
    expect(o.timeoutMs).to.equal(1_500);
    expect(o.session).to.deep.equal({ statement_timeout: '5s', search_path: 'a,b' });
    expect(o.nodeArgs).to.deep.equal(['--import=tsx']);
    expect(o.embeddedPostgres).to.equal(null);
    expect(o.isMaxConnectionsExplicit).to.equal(true);
    expect(resolveStartOptions(input({ flags: { embeddedPostgres: 'pgdata' } })).embeddedPostgres).to.equal('/srv/shop/pgdata');
    expect(resolveStartOptions(input({ fileConfig: { session: { statement_timeout: '3s' } } })).session).to.deep.equal({ statement_timeout: '3s' });
  });

  const invalid: [string, Partial<ResolveInput>, RegExp][] = [
    ['--workers 0', { flags: { workers: '0' } }, /--workers: "0" is not valid; expected a whole number >= 1 or "auto"/],
    ['--workers -3', { flags: { workers: '-3' } }, /--workers: "-3"/],
    ['--workers many', { flags: { workers: 'many' } }, /--workers: "many"/],
    ['--timeout banana', { flags: { timeout: 'banana' } }, /--timeout: "banana" is not a duration; use seconds \(30\) or a number with ms, s, m or h/],
    ['--timeout 0', { flags: { timeout: '0' } }, /--timeout: "0" is too short \(a bare number is seconds: 0ms\); use at least 1s$/],
    ['--graceful-timeout -5s', { flags: { gracefulTimeout: '-5s' } }, /--graceful-timeout: "-5s" is not a duration/],
    ['--max-memory lots', { flags: { maxMemory: 'lots' } }, /--max-memory: "lots" is not a size; use a number with KB, MB or GB/],
    ['--port 70000', { flags: { port: '70000' } }, /--port: "70000" is not valid; expected a whole number from 1 to 65535/],
    ['PORT=abc', { env: { PORT: 'abc' } }, /PORT \(environment\): "abc"/],
    ['--session nokey', { flags: { session: ['nokey'] } }, /--session: "nokey" is not valid; expected key=value/],
    ['--prepare always', { flags: { prepare: 'always' } }, /--prepare: "always" is not valid; expected one of off, auto/],
    ['--pipeline-depth 0', { flags: { pipelineDepth: '0' } }, /--pipeline-depth: "0" is not valid; expected a whole number from 1 to 1024/],
    ['--pipeline-depth deep', { flags: { pipelineDepth: 'deep' } }, /--pipeline-depth: "deep" is not valid; expected a whole number from 1 to 1024/],
    ['--pg-compat maybe', { flags: { pgCompat: 'maybe' } }, /--pg-compat: "maybe" is not valid; expected one of on, off/],
    ['a config-file pg-compat of true', { fileConfig: { 'pg-compat': true } }, /"pg-compat" in pcluster\.json: true is not valid; expected one of on, off/],
    ['an empty --env-file', { flags: { envFile: [''] } }, /--env-file: "" is not valid; expected a non-empty string/],
    ['--log-format xml', { flags: { logFormat: 'xml' } }, /--log-format: "xml"/],
    ['--max-connections below workers', { flags: { workers: '4', maxConnections: '3' } }, /--max-connections: 3 is below --workers 4/],
    ['an unknown config key', { fileConfig: { wrokers: 2 } }, /pcluster\.json: unknown key "wrokers"/],
    ['a wrong config type', { fileConfig: { workers: 'many' } }, /"workers" in pcluster\.json: "many"/],
    ['a missing app file', { fileExists: () => false }, /app file not found: app\.js \(resolved to \/srv\/shop\/app\.js\)/],
    ['no app', { app: undefined }, /missing the app/],
    ['two databases', { flags: { embeddedPostgres: true, databaseUrl: 'postgres://x@y/z' } }, /--embedded-postgres and --database-url/],
  ];
  for (const [what, overrides, message] of invalid) {
    it(`rejects ${what} with one line naming the value and the accepted form`, () => {
      expect(usageError(() => resolveStartOptions(input(overrides))).message).to.match(message);
    });
  }
});

describe('parseSize()', () => {
  it('reads the units of SPEC §1; a bare number is bytes', () => {
    expect(['64KB', '512MB', '1GB', '2048'].map((v) => parseSize(v, '--x'))).to.deep.equal([65_536, 536_870_912, 1_073_741_824, 2_048]);
    for (const bad of ['', 'lots', '0', '-5MB']) usageError(() => parseSize(bad, '--x'));
  });
});
