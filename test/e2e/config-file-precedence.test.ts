import { expect } from 'chai';
import { useTempDir } from '../support/temp-dir.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnCluster, startCluster, fixture } from '../support/cluster-process.js';
import { freePort } from '../support/free-port.js';
import { getJson } from '../support/http.js';
import { clusterStatus } from '../support/status.js';

describe('--config', () => {
  const tempDir = useTempDir('pcluster-config');

  it('is read from JSON, with flag > environment > file > default', async () => {
    const [filePort, envPort] = [await freePort(), await freePort()];
    const file = path.join(tempDir(), 'pcluster.config.json');
    writeFileSync(file, JSON.stringify({ workers: 3, port: filePort, 'max-connections': 5, session: { statement_timeout: '7s' } }));
    const cluster = await startCluster(fixture('routes.mjs'), { args: ['--config', file], env: { PORT: String(envPort) } });
    // spawnCluster passes --workers 2 and --port on the command line; the flags win over the file and PORT.
    const status = await clusterStatus(cluster);
    expect(status.workers).to.have.length(2);
    expect(status.budget.maxConnections, 'max-connections came from the file').to.equal(5);
    const setting = await getJson(`${cluster.url}/setting?name=statement_timeout`);
    expect(setting.body['value'], 'session came from the file').to.equal('7s');
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('a .mjs config file exporting a function works too', async () => {
    const file = path.join(tempDir(), 'pcluster.config.mjs');
    writeFileSync(file, "export default async () => ({ maxConnections: 4, leaseTimeout: '2s' });\n");
    const cluster = await startCluster(fixture('routes.mjs'), { args: ['--config', file] });
    expect((await clusterStatus(cluster)).budget.maxConnections).to.equal(4);
    expect((await cluster.stop()).code).to.equal(0);
  });

  const bad: { what: string; content: string; says: RegExp }[] = [
    { what: 'an unknown key', content: '{ "wrokers": 2 }', says: /unknown key "wrokers"/ },
    { what: 'a wrong type', content: '{ "timeout": "banana" }', says: /"timeout" in .*banana.* is not a duration/ },
    { what: 'invalid JSON', content: '{ workers: 2 ', says: /is not valid JSON/ },
  ];
  for (const { what, content, says } of bad) {
    it(`${what}: exit 2 with one line naming the file and the fix`, async () => {
      const file = path.join(tempDir(), 'bad.json');
      writeFileSync(file, content);
      const cluster = await spawnCluster(fixture('routes.mjs'), { args: ['--config', file] });
      expect((await cluster.exited).code).to.equal(2);
      expect(cluster.stderr.trim().split('\n'), cluster.stderr).to.have.length(1);
      expect(cluster.stderr).to.match(says);
    });
  }
});
