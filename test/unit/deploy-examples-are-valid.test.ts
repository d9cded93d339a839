import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfigFile, resolveStartOptions } from 'pcluster/internal/options/index';
import { containerArgv, DEPLOY, dockerfileInstructions, execStartArgv, kubernetesContainers, kubernetesDocs, systemdSettings, wrapperIn } from '../support/deploy-examples.js';
import { REPO_ROOT } from '../support/cluster-process.js';
import { startInput } from '../support/start-input.js';

/** SPEC §4's metric names: every dashboard query must use only these. */
const SPEC_METRICS = [
  'pcluster_workers', 'pcluster_db_connections', 'pcluster_db_connections_max', 'pcluster_db_server_connections',
  'pcluster_db_connects_total', 'pcluster_db_validations_total', 'pcluster_db_lease_wait_seconds_bucket', 'pcluster_db_rollbacks_total',
  'pcluster_http_requests_total', 'pcluster_http_request_duration_seconds_bucket', 'pcluster_worker_restarts_total',
];
const seconds = (duration: string): number => Number(/^(\d+)s$/.exec(duration)?.[1] ?? NaN);

describe('examples/deploy', () => {
  it('Kubernetes manifests parse, and probes, grace period and scrape annotations fit pcluster', () => {
    const docs = kubernetesDocs().map(({ file, errors, doc }) => {
      expect(errors, file).to.deep.equal([]);
      return doc;
    });
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
    const settings = systemdSettings('systemd/pcluster-shop.service');
    expect(settings.get('ExecReload')).to.match(/kill -HUP \$MAINPID/);
    expect(settings.get('KillSignal')).to.equal('SIGTERM');
    const graceful = seconds(/--graceful-timeout (\S+)/.exec(settings.get('ExecStart') ?? '')?.[1] ?? '');
    expect(Number(settings.get('TimeoutStopSec'))).to.be.greaterThan(graceful);
    expect(settings.get('RestartPreventExitStatus')!.split(/\s+/)).to.include.members(['2', '3']);
    expect(unit).not.to.match(/postgres(ql)?:\/\/[^:/@\s]+:[^@\s]+@/);
  });

  // The stop signal goes to the main process only (the kubelet signals PID 1; the unit has KillMode=mixed), and once
  // that process exits the rest is SIGKILLed: the main process must be pcluster, or in-flight requests are cut.
  it('the Kubernetes containers and the systemd unit run pcluster itself as their main process, through no wrapper', () => {
    const containers = kubernetesContainers();
    expect(containers).to.have.length.greaterThan(0);
    for (const container of containers) {
      expect(container.command, `${container.name}: set command, so the image's ENTRYPOINT cannot wrap pcluster`).to.be.an('array');
      const argv = containerArgv(container);
      expect(wrapperIn(argv), `${container.name}: ${argv.join(' ')}`).to.equal(undefined);
      expect(argv.join(' ')).to.match(/pcluster(\.js)? start /);
    }
    const execStart = execStartArgv(systemdSettings('systemd/pcluster-shop.service').get('ExecStart') ?? '');
    expect(wrapperIn(execStart), execStart.join(' ')).to.equal(undefined);
    expect(execStart.join(' ')).to.match(/pcluster(\.js)? start /);
  });

  it('the wrapper check catches package runners and shells that do not exec, through env and tini too', () => {
    for (const argv of [['npx', 'pcluster', 'start'], ['/usr/local/bin/npm', 'exec', 'pcluster'], ['yarn', 'pcluster'], ['pnpm', 'exec', 'pcluster'],
      ['sh', '-c', 'pcluster start app.js'], ['/bin/bash', '-lc', 'cd /app && node_modules/.bin/pcluster start app.js'], ['sh', 'start.sh'],
      ['sh', '-c', 'exec npx pcluster start app.js'], ['/usr/bin/env', 'NODE_ENV=production', 'npx', 'pcluster'], ['tini', '--', 'npm', 'start'], []]) {
      expect(wrapperIn(argv), argv.join(' ')).to.be.a('string');
    }
    for (const argv of [['node', '--', 'node_modules/pcluster/bin/pcluster.js', 'start'], ['/srv/shop/node_modules/.bin/pcluster', 'start'],
      ['sh', '-c', 'exec node_modules/.bin/pcluster start app.js'], ['tini', '-s', '--', 'node', 'node_modules/pcluster/bin/pcluster.js'],
      ['/usr/bin/env', 'NODE_ENV=production', 'node_modules/.bin/pcluster', 'start']]) {
      expect(wrapperIn(argv), argv.join(' ')).to.equal(undefined);
    }
  });

  it('the Dockerfile is multi-stage, runs as a non-root user, and its ENTRYPOINT is node running pcluster in the exec form, as the Deployment\'s command', () => {
    const instructions = dockerfileInstructions('Dockerfile');
    const froms = instructions.filter((i) => i.keyword === 'FROM');
    expect(froms.length, 'stages').to.be.greaterThan(1);
    const finalStage = instructions.slice(instructions.lastIndexOf(froms.at(-1)!));
    expect(finalStage.some((i) => i.keyword === 'COPY' && i.args.startsWith('--from=')), 'the final stage copies from a build stage').to.equal(true);
    const user = finalStage.filter((i) => i.keyword === 'USER').at(-1)?.args;
    expect(user, 'USER in the final stage').to.be.a('string');
    expect(user!.split(':')[0]).not.to.be.oneOf(['root', '0']);
    const entrypoint = instructions.filter((i) => i.keyword === 'ENTRYPOINT').at(-1)!.args;
    const argv = JSON.parse(entrypoint) as string[]; // the exec form is a JSON array; the shell form would not parse
    expect(argv[0]).to.equal('node');
    expect(wrapperIn(argv), argv.join(' ')).to.equal(undefined);
    expect(argv.at(-1)).to.match(/pcluster\.js$/);
    expect(kubernetesContainers()[0]!.command, 'the Deployment runs what the image\'s ENTRYPOINT runs').to.deep.equal(argv);
  });

  it('the example config file loads through --config and resolves every key', async () => {
    const file = path.join(REPO_ROOT, 'examples/config/pcluster.json');
    const fileConfig = await loadConfigFile(file, REPO_ROOT);
    const options = resolveStartOptions(startInput({ fileConfig, configPath: file }));
    expect(options).to.deep.include({ workers: 4, port: 3000, maxRequests: 10_000, gracefulTimeoutMs: 30_000, accessLog: '-', logFormat: 'json' });
    expect(options.session).to.deep.equal({ statement_timeout: '5s', idle_in_transaction_session_timeout: '30s' });
    expect(readFileSync(file, 'utf8')).not.to.match(/postgres(ql)?:\/\//);
  });
});
