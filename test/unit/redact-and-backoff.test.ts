import { expect } from 'chai';
import { redactSecrets } from '@pcluster/worker-runtime/internal/redact';
import { backoffDelayMs } from '@pcluster/worker-runtime/internal/backoff';
import { sessionOptions } from '@pcluster/worker-runtime/internal/connection-keeper';

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

describe('sessionOptions()', () => {
  it('turns session settings into a startup-packet options string, escaping spaces', () => {
    expect(sessionOptions({})).to.equal(undefined);
    expect(sessionOptions({ statement_timeout: '5s', search_path: 'a, b' })).to.equal('-c statement_timeout=5s -c search_path=a,\\ b');
  });
});
