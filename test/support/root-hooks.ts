import { killAllClusters } from './cluster-process.js';

/** Root hooks: whatever a test started is gone before the next test, even when the test failed. */
export const mochaHooks = {
  async afterEach(): Promise<void> {
    await killAllClusters();
  },
};
