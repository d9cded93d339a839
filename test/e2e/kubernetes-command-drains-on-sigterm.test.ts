import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClusterProcess, fixture, REPO_ROOT } from '../support/cluster-process.js';
import { containerArgv, kubernetesContainers } from '../support/deploy-examples.js';
import { freePort } from '../support/free-port.js';
import { getJson, metricValue } from '../support/http.js';
import { waitFor } from '../support/wait-for.js';

const killGroup = (group: number | undefined): void => {
  try {
    if (group !== undefined) process.kill(-group, 'SIGKILL');
  } catch {
    // Already gone.
  }
};

/**
 * A pod stops as the kubelet stops it: SIGTERM to the container's main process only, and once that process has exited
 * the runtime SIGKILLs whatever else runs in the container. Modelled here with a process group of its own: the signal
 * goes to its leader, the group is SIGKILLed when the leader exits.
 */
describe("the Kubernetes example's command, as a container runs it", () => {
  let dir: string;
  let group: number | undefined;
  before(() => {
    // The image's WORKDIR: the app as app.js, and a node_modules holding pcluster.
    dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'pcluster-pod-')));
    writeFileSync(path.join(dir, 'package.json'), '{ "private": true, "type": "module" }\n');
    copyFileSync(fixture('routes.mjs'), path.join(dir, 'app.js'));
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  });
  afterEach(() => killGroup(group));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('drains on SIGTERM to the main process: the request in flight completes and pcluster exits 0', async () => {
    const [container] = kubernetesContainers();
    const [program, ...args] = containerArgv(container!);
    const [port, metricsPort] = [await freePort(), await freePort()];
    const child = spawn(program === 'node' ? process.execPath : program!, [...args, '--port', String(port), '--metrics-port', String(metricsPort)], {
      cwd: dir,
      env: { ...process.env, DATABASE_URL: process.env['PCLUSTER_TEST_DATABASE_URL'] },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    group = child.pid;
    const pod = new ClusterProcess(child, port, metricsPort, 'app');
    void pod.exited.then(() => killGroup(child.pid));
    await pod.waitForLog((line) => typeof line.msg === 'string' && line.msg.startsWith('all 2 workers ready'), 60_000);

    const statements = async (): Promise<number> =>
      metricValue(await (await fetch(`${pod.metricsUrl}/metrics`)).text(), 'pcluster_db_lease_wait_seconds_count') ?? 0;
    const before = await statements();
    const inFlight = getJson(`${pod.url}/slow?ms=2000`).catch((error: Error & { cause?: { code?: string } }) => ({ status: error.cause?.code ?? error.message, body: {} }));
    await waitFor(async () => (await statements()) > before, 10_000, 'the request to reach its handler');
    child.kill('SIGTERM');

    const response = await inFlight;
    expect(response.status, `the request in flight (${[program, ...args].join(' ')})`).to.equal(200);
    expect(response.body).to.include({ done: true });
    expect(await pod.exited).to.deep.equal({ code: 0, signal: null });
    expect(pod.logs().some((line) => line.msg === 'worker retired'), 'workers drained').to.equal(true);
  });
});
