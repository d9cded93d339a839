import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import { metricValue } from '../support/http.js';

describe('the primary serves metrics and health on the metrics port', () => {
  it('/metrics aggregates the workers; /healthz and /readyz answer 200', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2 });
    for (let i = 0; i < 10; i++) await fetch(`${cluster.url}/page`).then((r) => r.text());
    const response = await fetch(`${cluster.metricsUrl}/metrics`);
    expect(response.headers.get('content-type')).to.match(/^text\/plain/);
    const text = await response.text();
    expect(metricValue(text, 'pcluster_workers{state="ready"}')).to.equal(2);
    expect(metricValue(text, 'pcluster_workers{state="draining"}')).to.equal(0);
    expect(metricValue(text, 'pcluster_db_connections{state="open"}')).to.equal(2);
    expect(metricValue(text, 'pcluster_db_connections{state="broken"}')).to.equal(0);
    expect(metricValue(text, 'pcluster_db_connections_max')).to.equal(3);
    expect(metricValue(text, 'pcluster_db_rollbacks_total')).to.equal(0);
    expect(metricValue(text, 'pcluster_http_requests_total{code="2xx"}')).to.equal(10);
    expect(metricValue(text, 'pcluster_db_connects_total{result="success"}')).to.equal(2);
    expect(text).to.include('# TYPE pcluster_db_lease_wait_seconds histogram');
    expect(text).not.to.include(new URL(process.env['PCLUSTER_TEST_DATABASE_URL']!).password);
    expect((await fetch(`${cluster.metricsUrl}/healthz`)).status).to.equal(200);
    expect((await fetch(`${cluster.metricsUrl}/readyz`)).status).to.equal(200);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
