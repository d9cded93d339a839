import { expect } from 'chai';
import { UsageError, type ResolveInput } from 'pcluster/internal/options/index';

/** What `pcluster start app.js` would resolve, with nothing given: the unit tests' base case. */
export const startInput = (overrides: Partial<ResolveInput> = {}): ResolveInput => ({
  app: 'app.js', flags: {}, env: {}, fileConfig: undefined, configPath: 'pcluster.json', cwd: '/srv/shop',
  isTTY: false, availableParallelism: 2, fileExists: () => true, ...overrides,
});

/** The one-line UsageError `fn` throws. */
export function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(UsageError);
    expect((error as UsageError).message, 'one line').not.to.include('\n');
    return (error as UsageError).message;
  }
  throw new Error('expected a UsageError');
}
