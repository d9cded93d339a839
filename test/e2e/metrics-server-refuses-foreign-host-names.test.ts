import { expect } from 'chai';
import http from 'node:http';
import { fixture, startCluster } from '../support/cluster-process.js';

/** GET `path` from 127.0.0.1:`port` with the Host header a browser would send for `host` (fetch cannot set it). */
function getWithHost(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

describe('the metrics server and DNS rebinding', () => {
  it('bound to loopback (the default), refuses a request addressed to another name; 127.0.0.1 and localhost work', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 1 });
    const port = cluster.metricsPort;
    const rebound = await getWithHost(port, '/status', `evil.example:${port}`);
    expect(rebound.status).to.equal(403);
    expect(rebound.body.trimEnd().split('\n'), 'one line, and not the status').to.have.length(1);
    expect(rebound.body).to.include('--metrics-host').and.not.include('"workers"');
    expect((await getWithHost(port, '/metrics', `evil.example:${port}`)).status).to.equal(403);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const ok = await getWithHost(port, '/status', host);
      expect(ok.status, host).to.equal(200);
      expect(JSON.parse(ok.body).name).to.equal(cluster.name);
    }
    expect((await cluster.stop()).code).to.equal(0);
  });
});
