import { expect } from 'chai';
import { redactSecrets } from '@pcluster/worker-runtime/internal/redact';
import { backoffDelayMs, retryDelayMs } from '@pcluster/worker-runtime/internal/backoff';
import { isRefusedForLimit, isUnreachable, sessionOptions } from '@pcluster/worker-runtime/internal/connection-keeper';

describe('redactSecrets()', () => {
  it('hides passwords in URL and key=value connection strings, and nothing else', () => {
    expect(redactSecrets('connect postgres://app:s3cr%40t@db.example:5432/shop failed')).to.equal('connect postgres://app:***@db.example:5432/shop failed');
    expect(redactSecrets('postgresql://app:p@ss:word@db.example/x')).to.equal('postgresql://app:***@db.example/x');
    expect(redactSecrets("host=db user=app password='a b c' dbname=x")).to.equal('host=db user=app password=*** dbname=x');
    expect(redactSecrets('postgres://app@db/x and http://example.com/a:b')).to.equal('postgres://app@db/x and http://example.com/a:b');
  });
});

describe('backoffDelayMs()', () => {
  it('grows exponentially with jitter inside [ceiling/2, ceiling], capped', () => {
    expect(backoffDelayMs(0, 100, 2_000, () => 0)).to.equal(50);
    expect(backoffDelayMs(0, 100, 2_000, () => 1)).to.equal(100);
    expect(backoffDelayMs(3, 100, 2_000, () => 0)).to.equal(400);
    expect(backoffDelayMs(50, 100, 2_000, () => 1)).to.equal(2_000);
  });
});

describe('retryDelayMs(): waiting for a server slot (SPEC §6)', () => {
  it('backs off with jitter but never past 3 s, so a freed slot is taken within a few seconds', () => {
    expect(retryDelayMs('slotWait', 0, () => 0)).to.equal(125);
    expect(retryDelayMs('slotWait', 1_000, () => 0)).to.equal(1_500);
    expect(retryDelayMs('slotWait', 1_000, () => 1)).to.equal(3_000);
  });

  it('tells a refusal for a connection limit (53300) from an outage', () => {
    const limit = Object.assign(new Error('too many connections for role "app"'), { code: '53300' });
    expect(isRefusedForLimit(limit)).to.equal(true);
    expect(isUnreachable(limit), 'not an outage: the server answered').to.equal(false);
    expect(isRefusedForLimit(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).to.equal(false);
  });
});

describe('sessionOptions()', () => {
  it('turns session settings into a startup-packet options string, escaping spaces', () => {
    expect(sessionOptions({})).to.equal(undefined);
    expect(sessionOptions({ statement_timeout: '5s', search_path: 'a, b' })).to.equal('-c statement_timeout=5s -c search_path=a,\\ b');
  });
});
