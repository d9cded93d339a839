import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfigFile, resolveStartOptions } from 'pcluster/internal/options/index';
import {
  containerArgv, DEPLOY, dockerfileInstructions, execStartArgv, flagValue, iniSettings, kubernetesContainers, kubernetesDocs, roleConnectionLimit, systemdSettings, wrapperIn,
} from '../support/deploy-examples.js';
import { REPO_ROOT } from '../support/cluster-process.js';
import { startInput } from '../support/start-input.js';
import { prometheusTools } from '../support/prometheus-tools.js';
import { useTempDir } from '../support/temp-dir.js';

/** SPEC §4's metric names: every dashboard query must use only these. */
const SPEC_METRICS = [
  'pcluster_workers', 'pcluster_db_connections', 'pcluster_db_connections_max', 'pcluster_db_server_connections',
  'pcluster_db_connects_total', 'pcluster_db_validations_total', 'pcluster_db_lease_wait_seconds_bucket', 'pcluster_db_rollbacks_total',
  'pcluster_http_requests_total', 'pcluster_http_request_duration_seconds_bucket', 'pcluster_worker_restarts_total', 'pcluster_worker_db_state',
];
const seconds = (duration: string): number => Number(/^(\d+)s$/.exec(duration)?.[1] ?? NaN);
const readDashboard = (): any => JSON.parse(readFileSync(path.join(DEPLOY, 'grafana/pcluster-dashboard.json'), 'utf8'));
const dashboardExprs = (dashboard: any): string[] => dashboard.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr));
/** The panel that puts connections against the budget. */
const budgetPanel = (dashboard: any): any => dashboard.panels.find((p: { targets: { expr: string }[] }) => p.targets.some((t) => t.expr.includes('pcluster_db_connections_max')));
/** A query as Grafana sends it with "All" instances picked. */
const allInstances = (expr: string): string => expr.replaceAll('$instance', '.+');

/** The manifests of examples/deploy/<dir>, each checked to parse. */
function manifests(dir: string): any[] {
  return kubernetesDocs(dir).map(({ file, errors, doc }) => {
    expect(errors, `${dir}/${file}`).to.deep.equal([]);
    return doc;
  });
}

/** A Deployment's pods at most during a rollout: replicas plus maxSurge (a whole number here, not a percentage). */
function podsAtMost(deployment: any): number {
  const { maxSurge, maxUnavailable } = deployment.spec.strategy.rollingUpdate;
  expect(maxSurge, `${deployment.metadata.name}: maxSurge as a whole number`).to.be.a('number');
  expect(maxUnavailable, `${deployment.metadata.name}: no pod leaves before its replacement is ready`).to.equal(0);
  return deployment.spec.replicas + maxSurge;
}

/** The pcluster pod of a Deployment: readiness on /readyz, a preStop pause, and a grace period that covers it and the drain. */
function pclusterPod(deployment: any): { args: string[]; workers: number; maxConnections: number } {
  const pod = deployment.spec.template;
  const container = pod.spec.containers[0];
  const args: string[] = container.args;
  expect(container.readinessProbe.httpGet).to.deep.equal({ path: '/readyz', port: 'metrics' });
  const pause = seconds(`${container.lifecycle.preStop.exec.command[1]}s`);
  expect(container.lifecycle.preStop.exec.command[0]).to.equal('sleep');
  expect(pod.spec.terminationGracePeriodSeconds, 'the grace period covers the preStop pause and the drain').to.be.greaterThan(seconds(flagValue(args, '--graceful-timeout')!) + pause);
  const [workers, maxConnections] = [Number(flagValue(args, '--workers')), Number(flagValue(args, '--max-connections'))];
  expect(maxConnections, '--max-connections written out, at least one per worker').to.be.at.least(workers);
  return { args, workers, maxConnections };
}

describe('examples/deploy', () => {
  it('Kubernetes: replicas x workers, plus recycles and the rollout surge, fit the role CONNECTION LIMIT the SQL and the comment name', () => {
    const deployment = manifests('kubernetes').find((d) => d.kind === 'Deployment');
    const { args, workers, maxConnections } = pclusterPod(deployment);
    const limit = roleConnectionLimit('kubernetes/database-role.sql');
    expect(limit).to.be.a('number').and.not.NaN;
    expect(deployment.spec.replicas, 'more than one host').to.be.greaterThan(1);
    expect(deployment.spec.replicas * workers, 'steady state').to.be.at.most(limit - (podsAtMost(deployment) - deployment.spec.replicas) * maxConnections);
    expect(podsAtMost(deployment) * maxConnections, 'every pod at its budget, the surge pods included').to.be.at.most(limit);
    expect(readFileSync(path.join(DEPLOY, 'kubernetes/deployment.yaml'), 'utf8')).to.include(`CONNECTION LIMIT ${limit}`);
    expect(args).not.to.include('--pooler');
  });

  it('Kubernetes behind PgBouncer: --pooler transaction, clients within max_client_conn, PgBouncer\'s server connections within the role limit', () => {
    const docs = manifests('kubernetes-pgbouncer');
    const deployments = docs.filter((d) => d.kind === 'Deployment');
    const shop = deployments.find((d) => d.spec.template.spec.containers[0].args?.includes('start'));
    const bouncer = deployments.find((d) => d !== shop);
    const { args, maxConnections } = pclusterPod(shop);
    expect(flagValue(args, '--pooler')).to.equal('transaction');
    expect(args, 'session settings go on the role behind a pooler').not.to.include('--session');

    const ini = iniSettings(docs.find((d) => d.kind === 'ConfigMap').data['pgbouncer.ini']);
    expect(ini.get('pool_mode')).to.equal('transaction');
    expect(Number(ini.get('query_wait_timeout')), 'an outage answers 503 within --lease-timeout (5s)').to.be.at.most(seconds(flagValue(args, '--lease-timeout') ?? '5s'));
    const service = docs.find((d) => d.kind === 'Service' && d.spec.selector.app === bouncer.spec.template.metadata.labels.app);
    const url = new URL(docs.find((d) => d.kind === 'Secret' && d.stringData.DATABASE_URL !== undefined).stringData.DATABASE_URL);
    expect(`${url.hostname}:${url.port}`, 'shop connects to PgBouncer\'s Service').to.equal(`${service.metadata.name}:${service.spec.ports[0].port}`);
    expect(podsAtMost(shop) * maxConnections, 'every shop pod on one PgBouncer').to.be.at.most(Number(ini.get('max_client_conn')));

    const perBouncer = Number(ini.get('max_db_connections'));
    expect(Number(ini.get('default_pool_size')) + Number(ini.get('reserve_pool_size'))).to.be.at.most(perBouncer);
    const limit = roleConnectionLimit('kubernetes-pgbouncer/database-role.sql');
    expect(podsAtMost(bouncer) * perBouncer, 'PgBouncer pods at max_db_connections, the surge included').to.be.at.most(limit);
    expect(readFileSync(path.join(DEPLOY, 'kubernetes-pgbouncer/pgbouncer.yaml'), 'utf8')).to.include(`CONNECTION LIMIT ${limit}`);
    expect(JSON.stringify(docs)).not.to.match(/postgres(ql)?:\/\/[^:/@]+:[^@]+@/);
  });

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
    const dashboard = readDashboard();
    const ids = dashboard.panels.map((p: { id: number }) => p.id);
    expect(new Set(ids).size).to.equal(ids.length);
    const exprs = dashboardExprs(dashboard);
    expect(exprs.length).to.be.greaterThan(8);
    for (const expr of exprs) {
      for (const name of expr.match(/pcluster_[a-z_]+/g) ?? []) expect(SPEC_METRICS, `${name} in ${expr}`).to.include(name);
    }
  });

  it('the Grafana dashboard has an instance variable, filters every query by it, and repeats the budget panel per instance', () => {
    const dashboard = readDashboard();
    const variable = dashboard.templating.list.find((v: { name: string }) => v.name === 'instance');
    expect(variable, 'an "instance" template variable').to.include({ type: 'query', multi: true, includeAll: true });
    expect(variable.definition).to.match(/^label_values\((pcluster_[a-z_]+), instance\)$/);
    expect(SPEC_METRICS).to.include(/^label_values\((pcluster_[a-z_]+)/.exec(variable.definition)![1]);
    for (const expr of dashboardExprs(dashboard)) {
      for (const selector of expr.match(/pcluster_[a-z_]+(\{[^}]*\})?/g) ?? []) expect(selector, expr).to.include('instance=~"$instance"');
    }
    const budget = budgetPanel(dashboard);
    expect(budget.repeat).to.equal('instance');
    for (const { expr } of budget.targets) expect(expr, 'kept apart per instance, not summed over pods').to.match(/ by \((\w+, )*instance(, \w+)*\)/);
  });

  describe('the Grafana dashboard with promtool', () => {
    const tempDir = useTempDir('pcluster-dashboard');
    let promtool: string;
    before(async function () {
      this.timeout(15 * 60_000);
      const found = await prometheusTools();
      if ('missing' in found) {
        console.warn(`      skipped: ${found.missing}`);
        this.skip();
      } else promtool = found.promtool;
    });

    it('every query is valid PromQL', async () => {
      const rules = { groups: [{ name: 'dashboard', rules: dashboardExprs(readDashboard()).map((expr, i) => ({ record: `dashboard:query_${i}`, expr: allInstances(expr) })) }] };
      const file = path.join(tempDir(), 'dashboard-rules.json');
      writeFileSync(file, JSON.stringify(rules));
      await promisify(execFile)(promtool, ['check', 'rules', file]);
    });

    // Two pods of 2 and 4 workers, budgets 3 and 5: each pod's connections must meet its own budget, not the sum over pods.
    it('the budget panel compares each instance\'s connections with that instance\'s budget', async () => {
      const pods = [{ instance: 'pod-a:9091', open: 2, budget: 3 }, { instance: 'pod-b:9091', open: 4, budget: 5 }];
      const series = (name: string, labels: string, value: number) => ({ series: `${name}{${labels}}`, values: `${value}x10` });
      const input_series = pods.flatMap(({ instance, open, budget }) => [
        series('pcluster_db_connections', `instance="${instance}",state="open"`, open),
        series('pcluster_db_connections', `instance="${instance}",state="broken"`, 0),
        series('pcluster_db_connections_max', `instance="${instance}"`, budget),
        series('pcluster_db_server_connections', `instance="${instance}"`, open),
      ]);
      const expected: Record<string, { labels: string; value: number }[]> = {
        A: pods.flatMap(({ instance, open }) => [{ labels: `{instance="${instance}",state="open"}`, value: open }, { labels: `{instance="${instance}",state="broken"}`, value: 0 }]),
        B: pods.map(({ instance, budget }) => ({ labels: `{instance="${instance}"}`, value: budget })),
        C: pods.map(({ instance, open }) => ({ labels: `{instance="${instance}"}`, value: open })),
      };
      const targets: { refId: string; expr: string }[] = budgetPanel(readDashboard()).targets;
      expect(targets.map((t) => t.refId)).to.deep.equal(Object.keys(expected));
      const promql_expr_test = targets.map(({ refId, expr }) => ({ expr: allInstances(expr), eval_time: '5m', exp_samples: expected[refId] }));
      const file = path.join(tempDir(), 'budget-panel-test.json');
      writeFileSync(file, JSON.stringify({ rule_files: [], evaluation_interval: '1m', tests: [{ interval: '1m', input_series, promql_expr_test }] }));
      const result = await promisify(execFile)(promtool, ['test', 'rules', file]).catch((error: { stdout: string; stderr: string }) => error);
      expect(`${result.stdout}${result.stderr}`).to.match(/SUCCESS/);
    });
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
    const containers = [...kubernetesContainers(), ...kubernetesContainers('kubernetes-pgbouncer').filter((c) => c.name !== 'pgbouncer')];
    expect(containers).to.have.length.greaterThan(1);
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
