import { expect } from 'chai';
import { startInput } from '../support/start-input.js';
import { resolveStartOptions, UsageError, type ResolveInput } from 'pcluster/internal/options/index';

const input = (overrides: Partial<ResolveInput> = {}): ResolveInput => startInput({ availableParallelism: 4, ...overrides });

function usageLine(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(UsageError);
    expect((error as UsageError).exitCode).to.equal(2);
    expect((error as UsageError).message, 'one line').not.to.include('\n');
    return (error as UsageError).message;
  }
  throw new Error('expected a UsageError');
}

describe('--pooler (SPEC §6)', () => {
  it('is none by default, and transaction from the flag or the config file', () => {
    expect(resolveStartOptions(input()).pooler).to.equal('none');
    expect(resolveStartOptions(input({ flags: { pooler: 'transaction' } })).pooler).to.equal('transaction');
    expect(resolveStartOptions(input({ fileConfig: { pooler: 'transaction' } })).pooler).to.equal('transaction');
    expect(resolveStartOptions(input({ fileConfig: { pooler: 'transaction' }, flags: { pooler: 'none' } })).pooler).to.equal('none');
  });

  it('turns named prepared statements off unless --prepare auto is given explicitly', () => {
    expect(resolveStartOptions(input()).prepare).to.equal('auto');
    expect(resolveStartOptions(input({ flags: { pooler: 'transaction' } })).prepare).to.equal('off');
    expect(resolveStartOptions(input({ flags: { pooler: 'transaction', prepare: 'auto' } })).prepare).to.equal('auto');
    expect(resolveStartOptions(input({ flags: { pooler: 'transaction' }, fileConfig: { prepare: 'auto' } })).prepare).to.equal('auto');
    expect(resolveStartOptions(input({ fileConfig: { pooler: 'transaction', prepare: 'auto' } })).prepare).to.equal('auto');
  });

  it('refuses --session behind a transaction pooler, pointing at ALTER ROLE … SET', () => {
    expect(usageLine(() => resolveStartOptions(input({ flags: { pooler: 'transaction', session: ['statement_timeout=5s'] } }))))
      .to.match(/^--session: not with --pooler transaction .*ALTER ROLE <user> SET statement_timeout = '5s'$/);
    expect(usageLine(() => resolveStartOptions(input({ configPath: 'pcluster.json', fileConfig: { pooler: 'transaction', session: { work_mem: '64MB' } } }))))
      .to.match(/^"session" in pcluster\.json: not with --pooler transaction .*ALTER ROLE <user> SET work_mem = '64MB'$/);
    expect(resolveStartOptions(input({ flags: { session: ['statement_timeout=5s'] } })).session).to.deep.equal({ statement_timeout: '5s' });
  });

  it('names the accepted forms for an invalid value', () => {
    expect(usageLine(() => resolveStartOptions(input({ flags: { pooler: 'session' } })))).to.equal('--pooler: "session" is not valid; expected one of none, transaction');
    expect(usageLine(() => resolveStartOptions(input({ configPath: 'p.json', fileConfig: { pooler: true } })))).to.equal('"pooler" in p.json: true is not valid; expected one of none, transaction');
  });
});
