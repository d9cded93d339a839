import { expect } from 'chai';
import { resolveStartOptions } from 'pcluster/internal/options/index';
import { buildWorkerConfig } from 'pcluster/internal/worker-config';
import type { WorkerHandle } from 'pcluster/internal/worker-handle';

describe('buildWorkerConfig()', () => {
  it('tells the worker --pg-compat, whether port and host were given, and whether the database was', () => {
    const options = resolveStartOptions({
      app: 'app.js', flags: { pgCompat: 'off', host: '127.0.0.1' }, env: {}, fileConfig: undefined, cwd: '/srv/shop',
      isTTY: false, availableParallelism: 2, fileExists: () => true,
    });
    const handle = { slot: 2, phase: 1, maxRequests: 0 } as unknown as WorkerHandle;
    const database = { connectionString: undefined, applicationName: 'pcluster:app', session: {}, isConfigured: options.isDatabaseConfigured };
    const config = buildWorkerConfig(options, database, handle);
    expect(config).to.deep.include({ pgCompat: 'off', isPortExplicit: false, isHostExplicit: true, port: 3000, host: '127.0.0.1' });
    expect(config.database).to.deep.include({ isConfigured: false, applicationName: 'pcluster:app:2' });
  });
});
