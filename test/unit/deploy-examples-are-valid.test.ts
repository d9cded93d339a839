import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const DEPLOY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../examples/deploy');
/** SPEC §4's metric names: every dashboard query must use only these. */
const SPEC_METRICS = [
  'pcluster_workers', 'pcluster_db_connections', 'pcluster_db_connections_max', 'pcluster_db_server_connections',
  'pcluster_db_connects_total', 'pcluster_db_validations_total', 'pcluster_db_lease_wait_seconds_bucket', 'pcluster_db_rollbacks_total',
  'pcluster_http_requests_total', 'pcluster_http_request_duration_seconds_bucket', 'pcluster_worker_restarts_total',
];
const seconds = (duration: string): number => Number(/^(\d+)s$/.exec(duration)?.[1] ?? NaN);

describe('examples/deploy', () => {
  it('Kubernetes manifests parse, and probes, grace period and scrape annotations fit pcluster', () => {
    const docs = readdirSync(path.join(DEPLOY, 'kubernetes')).flatMap((file) =>
      parseAllDocuments(readFileSync(path.join(DEPLOY, 'kubernetes', file), 'utf8')).map((doc) => {
        expect(doc.errors, file).to.deep.equal([]);
        return doc.toJS();
      }),
    );
    const deployment = docs.find((d) => d.kind === 'Deployment');
    const pod = deployment.spec.template;
    const container = pod.spec.containers[0];
    const args: string[] = container.args;
    const metricsPort = container.ports.find((p: { name: string }) => p.name === 'metrics').containerPort;
    expect(container.readinessProbe.httpGet).to.deep.equal({ path: '/readyz', port: 'metrics' });
    expect(container.livenessProbe.httpGet).to.deep.equal({ path: '/healthz', port: 'metrics' });
    expect(args[args.indexOf('--metrics-host') + 1]).to.equal('0.0.0.0');
    expect(pod.spec.terminationGracePeriodSeconds).to.be.greaterThan(seconds(args[args.indexOf('--graceful-timeout') + 1]!) + 5);
    expect(pod.metadata.annotations['prometheus.io/port']).to.equal(String(metricsPort));
    expect(pod.metadata.annotations['prometheus.io/path']).to.equal('/metrics');
    expect(docs.map((d) => d.kind)).to.include.members(['Deployment', 'Service', 'Secret']);
    expect(JSON.stringify(docs)).not.to.match(/postgres(ql)?:\/\/[^:/@]+:[^@]+@/);
  });

  it('the Grafana dashboard is valid JSON whose queries use only SPEC metric names, with unique panel ids', () => {
    const dashboard = JSON.parse(readFileSync(path.join(DEPLOY, 'grafana/pcluster-dashboard.json'), 'utf8'));
    const ids = dashboard.panels.map((p: { id: number }) => p.id);
    expect(new Set(ids).size).to.equal(ids.length);
    const exprs: string[] = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr));
    expect(exprs.length).to.be.greaterThan(8);
    for (const expr of exprs) {
      for (const name of expr.match(/pcluster_[a-z_]+/g) ?? []) expect(SPEC_METRICS, `${name} in ${expr}`).to.include(name);
    }
  });

  it('the systemd unit reloads with SIGHUP, stops with SIGTERM after the graceful timeout, and does not restart on exit 2 or 3', () => {
    const unit = readFileSync(path.join(DEPLOY, 'systemd/pcluster-shop.service'), 'utf8');
    const settings = new Map<string, string>();
    for (const line of unit.split('\n')) {
      const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
      if (match !== null) settings.set(match[1]!, match[2]!);
    }
    expect(settings.get('ExecReload')).to.match(/kill -HUP \$MAINPID/);
    expect(settings.get('KillSignal')).to.equal('SIGTERM');
    const graceful = seconds(/--graceful-timeout (\S+)/.exec(settings.get('ExecStart') ?? '')?.[1] ?? '');
    expect(Number(settings.get('TimeoutStopSec'))).to.be.greaterThan(graceful);
    expect(settings.get('RestartPreventExitStatus')!.split(/\s+/)).to.include.members(['2', '3']);
    expect(unit).not.to.match(/postgres(ql)?:\/\/[^:/@\s]+:[^@\s]+@/);
  });
});
