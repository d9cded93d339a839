import { expect } from 'chai';
import { ConnectionFreshness } from '@pcluster/worker-runtime/internal/connection-freshness';

describe('ConnectionFreshness', () => {
  it('asks for a ping after validateAfterMs idle or after a suspect failure, and not while replies keep coming', () => {
    const freshness = new ConnectionFreshness({ validateAfterMs: 1_000, connectionMaxAgeMs: 0 });
    freshness.connected(10_000);
    expect(freshness.lastValidatedAt?.getTime()).to.equal(10_000);
    expect(freshness.isDueForValidation(10_999)).to.equal(false);
    expect(freshness.isDueForValidation(11_000)).to.equal(true);
    freshness.used(10_900);
    expect(freshness.isDueForValidation(11_000)).to.equal(false);
    freshness.suspect();
    expect(freshness.isDueForValidation(11_000)).to.equal(true);
    freshness.validated(11_100);
    expect(freshness.isDueForValidation(11_200)).to.equal(false);
    expect(freshness.lastValidatedAt?.getTime()).to.equal(11_100);
  });

  it('retires a connection at its max age, up to 10% early, and never when the max age is 0', () => {
    const early = new ConnectionFreshness({ validateAfterMs: 1_000, connectionMaxAgeMs: 60_000 }, () => 1);
    early.connected(0);
    expect(early.isDueForRetirement(53_999)).to.equal(false);
    expect(early.isDueForRetirement(54_000)).to.equal(true);
    const onTime = new ConnectionFreshness({ validateAfterMs: 1_000, connectionMaxAgeMs: 60_000 }, () => 0);
    onTime.connected(0);
    expect(onTime.isDueForRetirement(59_999)).to.equal(false);
    expect(onTime.isDueForRetirement(60_000)).to.equal(true);
    const never = new ConnectionFreshness({ validateAfterMs: 1_000, connectionMaxAgeMs: 0 });
    never.connected(0);
    expect(never.isDueForRetirement(Number.MAX_SAFE_INTEGER)).to.equal(false);
  });
});
