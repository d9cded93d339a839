import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCluster, fixture, type ClusterProcess } from '../support/cluster-process.js';
import { useAdminClient } from '../support/database.js';
import { freePort } from '../support/free-port.js';
import { metricValue } from '../support/http.js';
import { prometheusTools } from '../support/prometheus-tools.js';
import { clusterStatus } from '../support/status.js';
import { waitFor } from '../support/wait-for.js';

/** SPEC §4: every metric, its type and its label. */
const SPEC_METRICS: [name: string, type: string, label?: string][] = [
  ['pcluster_workers', 'gauge', 'state'],
  ['pcluster_db_connections', 'gauge', 'state'],
  ['pcluster_db_connections_max', 'gauge'],
  ['pcluster_db_server_connections', 'gauge'],
  ['pcluster_db_connects_total', 'counter', 'result'],
  ['pcluster_db_validations_total', 'counter', 'result'],
  ['pcluster_db_lease_wait_seconds', 'histogram'],
  ['pcluster_db_rollbacks_total', 'counter'],
  ['pcluster_db_pipeline_depth', 'histogram'],
  ['pcluster_http_requests_total', 'counter', 'code'],
  ['pcluster_http_request_duration_seconds', 'histogram'],
  ['pcluster_worker_restarts_total', 'counter', 'reason'],
];

const scrape = async (cluster: ClusterProcess): Promise<string> => (await fetch(`${cluster.metricsUrl}/metrics`)).text();

describe('/metrics', () => {
  const admin = useAdminClient();

  it('has every SPEC §4 metric with its type and labels, and the counters move with their events', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2, args: ['--validate-after', '200ms'] });
    await fetch(`${cluster.url}/pid`).then((r) => r.text());
    await waitFor(async () => metricValue(await scrape(cluster), 'pcluster_db_server_connections') === 2, 10_000, 'the server-side count');
    const first = await scrape(cluster);
    for (const [name, type, label] of SPEC_METRICS) {
      expect(first, name).to.include(`# TYPE ${name} ${type}\n`);
      if (label !== undefined) expect(first, `${name} has a ${label} label`).to.match(new RegExp(`^${name}\\{${label}="`, 'm'));
    }
    expect(first).to.match(/^process_resident_memory_bytes\{worker="1"\} \d+/m);
    expect(first).to.match(/^process_resident_memory_bytes\{worker="primary"\} \d+/m);

    const value = (text: string, sample: string): number => metricValue(text, sample) ?? 0;
    await fetch(`${cluster.url}/leave-open?tag=metrics`).then((r) => r.text());
    await new Promise((resolve) => setTimeout(resolve, 400)); // idle past --validate-after, so the next statement is validated
    await fetch(`${cluster.url}/pid`).then((r) => r.text());
    await fetch(`${cluster.url}/throw`).then((r) => r.text());
    const { workers } = await clusterStatus(cluster);
    await admin().query('SELECT pg_terminate_backend($1)', [workers[0]!.db.backendPid]);
    await waitFor(async () => value(await scrape(cluster), 'pcluster_db_connects_total{result="success"}') === 3, 10_000, 'the reconnect');
    process.kill(workers[1]!.pid!, 'SIGKILL');
    await waitFor(async () => value(await scrape(cluster), 'pcluster_worker_restarts_total{reason="crash"}') === 1, 10_000, 'the crash restart');

    const later = await scrape(cluster);
    expect(value(later, 'pcluster_db_rollbacks_total')).to.equal(1);
    expect(value(later, 'pcluster_db_validations_total{result="ok"}')).to.be.greaterThan(value(first, 'pcluster_db_validations_total{result="ok"}'));
    expect(value(later, 'pcluster_http_requests_total{code="5xx"}')).to.equal(1);
    expect(value(later, 'pcluster_http_requests_total{code="2xx"}'), 'counters of the crashed worker are kept').to.be.at.least(3);
    expect(value(later, 'pcluster_http_request_duration_seconds_count')).to.be.at.least(4);
    // Every statement written is observed once, at its depth (one at a time here): the count is at least the 2xx requests' statements.
    expect(value(later, 'pcluster_db_pipeline_depth_bucket{le="1"}')).to.be.at.least(3);
    expect(value(later, 'pcluster_db_pipeline_depth_count')).to.equal(value(later, 'pcluster_db_pipeline_depth_bucket{le="+Inf"}'));
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('a worker that cannot answer (event loop blocked) does not fail the scrape: the others are served and the miss is counted', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2 });
    void fetch(`${cluster.url}/block?ms=5000`).then((r) => r.text(), () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the blocking request has reached a worker
    const startedAt = Date.now();
    const response = await fetch(`${cluster.metricsUrl}/metrics`);
    const text = await response.text();
    expect(response.status).to.equal(200);
    expect(Date.now() - startedAt, 'answered after the per-worker timeout, not after the block').to.be.below(4_500);
    expect(metricValue(text, 'pcluster_db_connections{state="open"}'), 'the answering worker is counted').to.equal(1);
    expect(metricValue(text, 'pcluster_metrics_collection_misses_total')).to.be.at.least(1);
    expect((await cluster.stop()).code).to.equal(0);
  });

  describe('with the Prometheus tools', () => {
    let tools: { promtool: string; prometheus: string };
    before(async function () {
      this.timeout(15 * 60_000);
      const found = await prometheusTools();
      if ('missing' in found) {
        console.warn(`      skipped: ${found.missing}`);
        this.skip();
      } else tools = found;
    });

    it('passes promtool check metrics, and a real Prometheus scrapes it (up == 1)', async function () {
      this.timeout(120_000);
      const cluster = await startCluster(fixture('routes.mjs'), { workers: 2 });
      await fetch(`${cluster.url}/page`).then((r) => r.text());
      const text = await scrape(cluster);
      const lint = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = execFile(tools.promtool, ['check', 'metrics'], (error, stdout, stderr) =>
          resolve({ code: error === null ? 0 : (error as { code?: number }).code ?? 1, output: stdout + stderr }));
        child.stdin!.end(text);
      });
      expect(lint.code, lint.output).to.equal(0);

      const dir = mkdtempSync(path.join(os.tmpdir(), 'pcluster-prom-'));
      const port = await freePort();
      writeFileSync(path.join(dir, 'prometheus.yml'), [
        'global: { scrape_interval: 1s, scrape_timeout: 1s }',
        'scrape_configs:',
        '  - job_name: pcluster',
        `    static_configs: [{ targets: ["127.0.0.1:${cluster.metricsPort}"] }]`,
      ].join('\n'));
      const prometheus = spawn(tools.prometheus, [
        `--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ], { stdio: 'ignore' });
      try {
        let up: string | undefined;
        await waitFor(async () => {
          const answer = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=up{job="pcluster"}`).then((r) => (r.ok ? r.json() : undefined), () => undefined);
          up = answer?.data?.result?.[0]?.value?.[1];
          return up !== undefined;
        }, 60_000, 'Prometheus to scrape the target');
        expect(up).to.equal('1');
        const workers = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=pcluster_workers{state="ready"}`).then((r) => r.json());
        expect(workers.data.result[0].value[1]).to.equal('2');
      } finally {
        prometheus.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
      expect((await cluster.stop()).code).to.equal(0);
    });
  });
});
