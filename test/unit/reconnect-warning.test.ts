import { expect } from 'chai';
import { describeError, reconnectWarning } from '@pcluster/worker-runtime/internal/reconnect-warning';

const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('reconnectWarning()', () => {
  it('says the attempt and the next delay on one line, with the error and its stack on the first attempt only', () => {
    const first = reconnectWarning(refused(), 1, 100);
    expect(first.message).to.equal('database unreachable (attempt 1, next in 100ms): connect ECONNREFUSED 127.0.0.1:5432');
    expect(first.fields).to.include({ attempt: 1, retryInMs: 100 }).and.to.have.property('err').that.is.an('error');
    const third = reconnectWarning(refused(), 3, 800);
    expect(third.message).to.equal('database unreachable (attempt 3, next in 800ms): connect ECONNREFUSED 127.0.0.1:5432');
    expect(third.fields).to.deep.equal({ attempt: 3, retryInMs: 800, code: 'ECONNREFUSED' });
  });

  it('calls a refused login a failed reconnect, not an unreachable server', () => {
    const login = Object.assign(new Error('password authentication failed for user "app"'), { code: '28P01' });
    expect(reconnectWarning(login, 2, 200).message).to.equal('database reconnect failed (attempt 2, next in 200ms): password authentication failed for user "app"');
  });
});

describe('describeError()', () => {
  it("reads an AggregateError's inner errors when its own message is empty", () => {
    const both = Object.assign(new AggregateError([new Error('connect ECONNREFUSED ::1:5432'), new Error('connect ECONNREFUSED 127.0.0.1:5432')], ''), { code: 'ECONNREFUSED' });
    expect(describeError(both)).to.equal('connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432');
    expect(describeError(Object.assign(new Error(''), { code: 'ETIMEDOUT' }))).to.equal('ETIMEDOUT');
  });
});
