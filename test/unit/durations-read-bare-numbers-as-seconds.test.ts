import { expect } from 'chai';
import { refusal, startInput } from '../support/start-input.js';
import { parseDuration, resolveStartOptions } from 'pcluster/internal/options/index';

const input = startInput;

describe('parseDuration()', () => {
  it('reads a bare number, written or a config file\'s number, as seconds (as gunicorn)', () => {
    const read = (value: unknown): number => parseDuration(value, '--x');
    expect(['5', '3600', '0.5', '.25', '1.5', ' 30 ', '0'].map(read)).to.deep.equal([5_000, 3_600_000, 500, 250, 1_500, 30_000, 0]);
    expect([5, 0.25, 0].map(read)).to.deep.equal([5_000, 250, 0]);
  });

  it('reads ms, s, m and h (and what the ms package reads besides)', () => {
    const read = (value: string): number => parseDuration(value, '--x');
    expect(['250ms', '30s', '1.5s', '5m', '6h', '5 s', '2d'].map(read)).to.deep.equal([250, 30_000, 1_500, 300_000, 21_600_000, 5_000, 172_800_000]);
  });

  it('refuses what is not a duration, naming the source, the value and the accepted forms', () => {
    for (const bad of ['', 'banana', '-1s', '-5', 'NaNms', '1e3', '5 5', true, null, Number.NaN, -1]) {
      expect(refusal(() => parseDuration(bad, '--x'))).to.match(/^--x: .* is not a duration; use seconds \(30\) or a number with ms, s, m or h \(250ms, 30s, 5m, 6h\)$/);
    }
  });

  it('refuses less than the minimum, saying what a bare number meant', () => {
    expect(refusal(() => parseDuration('0.5', '--timeout', 1_000))).to.equal('--timeout: "0.5" is too short (a bare number is seconds: 500ms); use at least 1s');
    expect(refusal(() => parseDuration('500ms', '--timeout', 1_000))).to.equal('--timeout: "500ms" is too short; use at least 1s');
    expect(refusal(() => parseDuration(0, '"timeout" in pcluster.json', 1))).to.equal('"timeout" in pcluster.json: 0 is too short (a bare number is seconds: 0ms); use more than 0');
    expect(parseDuration('1', '--timeout', 1_000)).to.equal(1_000);
  });

  it('refuses more than a Node timer can wait (a longer timer fires at once)', () => {
    expect(refusal(() => parseDuration('25d', '--max-age'))).to.equal('--max-age: "25d" is too long; use at most 24d');
    expect(refusal(() => parseDuration(3_000_000, '--max-age'))).to.match(/too long/);
    expect(parseDuration('24d', '--max-age')).to.equal(24 * 86_400_000);
  });
});

describe('every duration option of pcluster start', () => {
  const durations = {
    maxAge: 'maxAgeMs', timeout: 'timeoutMs', gracefulTimeout: 'gracefulTimeoutMs', leaseTimeout: 'leaseTimeoutMs', validateAfter: 'validateAfterMs',
    validationTimeout: 'validationTimeoutMs', connectionMaxAge: 'connectionMaxAgeMs', leakThreshold: 'leakThresholdMs', waitForDb: 'waitForDbMs',
    keepaliveTimeout: 'keepaliveTimeoutMs',
  } as const;
  const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

  for (const [flag, option] of Object.entries(durations)) {
    it(`--${kebab(flag)}: a bare number is seconds, as a flag and as a config file's number or string`, () => {
      expect(resolveStartOptions(input({ flags: { [flag]: '3600' } }))[option]).to.equal(3_600_000);
      expect(resolveStartOptions(input({ fileConfig: { [kebab(flag)]: 3600 } }))[option]).to.equal(3_600_000);
      expect(resolveStartOptions(input({ fileConfig: { [flag]: '3600' } }))[option]).to.equal(3_600_000);
    });
  }

  it('--timeout is at least 1 s, from a flag or a config file', () => {
    for (const value of ['0.5', '500ms', '0', '0.999']) {
      expect(refusal(() => resolveStartOptions(input({ flags: { timeout: value } })))).to.match(new RegExp(`^--timeout: "${value.replace('.', '\\.')}" is too short.*; use at least 1s$`));
    }
    expect(refusal(() => resolveStartOptions(input({ fileConfig: { timeout: 0.5 } })))).to.match(/^"timeout" in pcluster\.json: 0\.5 is too short .*use at least 1s$/);
    expect(resolveStartOptions(input({ flags: { timeout: '1' } })).timeoutMs).to.equal(1_000);
  });

  it('--keepalive-timeout is at least 2 s (1 s idle and one probe: the kernel counts whole seconds)', () => {
    expect(refusal(() => resolveStartOptions(input({ flags: { keepaliveTimeout: '1' } })))).to.equal('--keepalive-timeout: "1" is too short (a bare number is seconds: 1000ms); use at least 2s');
    expect(resolveStartOptions(input({ flags: { keepaliveTimeout: '5' } })).keepaliveTimeoutMs).to.equal(5_000);
  });

  it('--max-age is at least 10 s (a worker hardly booted would be recycled again), or 0 for off', () => {
    expect(refusal(() => resolveStartOptions(input({ flags: { maxAge: '5' } })))).to.equal('--max-age: "5" is too short (a bare number is seconds: 5000ms); use at least 10s');
    expect(refusal(() => resolveStartOptions(input({ fileConfig: { 'max-age': '9s' } })))).to.equal('"max-age" in pcluster.json: "9s" is too short; use at least 10s');
    expect(resolveStartOptions(input({ flags: { maxAge: '0' } })).maxAgeMs).to.equal(undefined);
    expect(resolveStartOptions(input({ flags: { maxAge: '10' } })).maxAgeMs).to.equal(10_000);
  });

  it('--lease-timeout and --validation-timeout are more than 0; the others may be 0', () => {
    expect(refusal(() => resolveStartOptions(input({ flags: { leaseTimeout: '0' } })))).to.match(/^--lease-timeout: "0" is too short .*; use more than 0$/);
    expect(refusal(() => resolveStartOptions(input({ flags: { validationTimeout: '0ms' } })))).to.equal('--validation-timeout: "0ms" is too short; use more than 0');
    const zero = resolveStartOptions(input({ flags: { gracefulTimeout: '0', validateAfter: '0', connectionMaxAge: '0', leakThreshold: '0', waitForDb: '0' } }));
    expect([zero.gracefulTimeoutMs, zero.validateAfterMs, zero.connectionMaxAgeMs, zero.leakThresholdMs, zero.waitForDbMs]).to.deep.equal([0, 0, 0, 0, 0]);
  });
});
