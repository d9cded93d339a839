import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ClusterProcess, REPO_ROOT } from '../support/cluster-process.js';
import { freePort } from '../support/free-port.js';
import { getJson } from '../support/http.js';

const run = promisify(execFile);

/** The environment less npm's own npm_* variables (set under `npm test`), so the nested npm sees the app's directory as its project. */
const npmFreeEnv = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));

/**
 * The two packages' sources without their dist/, the root package.json (its `pack` script), scripts/pack.mjs and
 * the repository's node_modules (for tsc and the types): packing them proves that the pack script builds the
 * packages itself, as in a fresh clone.
 */
function copySources(into: string): void {
  for (const name of ['worker-runtime', 'supervisor']) {
    const from = path.join(REPO_ROOT, 'packages', name);
    cpSync(from, path.join(into, 'packages', name), { recursive: true, filter: (file) => !/^(dist|node_modules)$|\.tsbuildinfo$/.test(path.relative(from, file)) });
  }
  for (const file of ['package.json', 'tsconfig.base.json', 'scripts/pack.mjs']) {
    mkdirSync(path.dirname(path.join(into, file)), { recursive: true });
    copyFileSync(path.join(REPO_ROOT, file), path.join(into, file));
  }
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(into, 'node_modules'));
}

const APP = `// An app of its own: an exported handler that uses the worker's connection.
export default async function handler(req, res) {
  const { rows } = await req.db.query('SELECT 6 * 7 AS answer');
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ answer: rows[0].answer, workerMain: process.argv[1] }));
}
`;

const APP_WITH_DB_IMPORT = `// An app that takes the connection from \`import { db }\` (and a CommonJS helper from require()).
import { db } from '@pcluster/worker-runtime';
import { createRequire } from 'node:module';

const helper = createRequire(import.meta.url)('./helper.cjs');

export default async function handler(req, res) {
  const { rows } = await db.query('SELECT 6 * 7 AS answer');
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ answer: rows[0].answer, sameDb: helper.db === db, workerMain: process.argv[1], runtime: import.meta.resolve('@pcluster/worker-runtime') }));
}
`;

const HELPER_CJS = "module.exports = { db: require('@pcluster/worker-runtime').db };\n";

describe('the packed pcluster tarball installs into an app of its own (SPEC §1)', function () {
  this.timeout(120_000);
  let dir: string;
  let packs: string;
  let tarballs: string[]; // what the pack script wrote
  const clusters: ClusterProcess[] = [];
  const env = npmFreeEnv();

  before(async () => {
    dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'pcluster-tarball-')));
    const sources = path.join(dir, 'sources');
    packs = path.join(dir, 'packs');
    copySources(sources);
    // The documented command; --with-runtime also writes the runtime's tarball, for the `import { db }` case below.
    await run('npm', ['run', 'pack', '--', packs, '--with-runtime'], { cwd: sources, env });
    tarballs = readdirSync(packs).sort();
  });
  after(() => {
    // npx, the primary and its workers share the process group npx was started in.
    for (const cluster of clusters) if (cluster.isRunning && cluster.child.pid !== undefined) process.kill(-cluster.child.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh app directory holding `files`, with `toInstall` (tarball names in the packs directory) npm-installed into it. */
  async function appWith(name: string, files: Record<string, string>, toInstall: string[]): Promise<string> {
    const app = path.join(dir, name);
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }, null, 2));
    for (const [file, text] of Object.entries(files)) writeFileSync(path.join(app, file), text);
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...toInstall.map((file) => path.join(packs, file))], { cwd: app, env });
    return app;
  }

  /** `npx pcluster start app.js` in `app`; resolves once its one worker is ready. */
  async function startIn(app: string): Promise<ClusterProcess> {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const databaseUrl = process.env['PCLUSTER_TEST_DATABASE_URL']!;
    const args = ['--no', 'pcluster', 'start', 'app.js', '--workers', '1', '--port', String(port), '--metrics-port', String(metricsPort), '--database-url', databaseUrl, '--log-format', 'json'];
    // --no: never fetch a package of that name from the registry; the one just installed must be found.
    const child = spawn('npx', args, { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const cluster = new ClusterProcess(child, port, metricsPort, 'app');
    clusters.push(cluster);
    await cluster.waitForLog((line) => typeof line.msg === 'string' && line.msg.startsWith('all 1 workers ready'));
    return cluster;
  }

  /** npx does not pass signals on: stop the primary itself, as a process manager would, and read its status through npx. */
  async function stop(cluster: ClusterProcess): Promise<void> {
    const { body: report } = await getJson<{ pid: number }>(`${cluster.metricsUrl}/status`);
    process.kill(report.pid, 'SIGTERM');
    expect((await cluster.exited).code, cluster.stderr).to.equal(0);
  }

  const pclusterTarball = (): string => tarballs.find((file) => /^pcluster-\d+\.\d+\.\d+\.tgz$/.test(file))!;
  const runtimeTarball = (): string => tarballs.find((file) => /^pcluster-worker-runtime-\d+\.\d+\.\d+\.tgz$/.test(file))!;

  it('npm install of the pcluster tarball alone, then `npx pcluster start app.js` serves with req.db and stops with status 0', async () => {
    expect(tarballs).to.have.length(2);
    expect(tarballs[0]).to.match(/^pcluster-\d+\.\d+\.\d+\.tgz$/);
    expect(tarballs[1]).to.match(/^pcluster-worker-runtime-\d+\.\d+\.\d+\.tgz$/);

    const app = await appWith('app', { 'app.js': APP }, [pclusterTarball()]);
    const cluster = await startIn(app);
    const { status, body } = await getJson(cluster.url);
    expect(status).to.equal(200);
    expect(body['answer']).to.equal(42);
    // npm keeps a bundled dependency inside the package that bundles it.
    expect(body['workerMain'], 'the worker runs the runtime bundled in the installed pcluster, not the repository\'s').to.match(
      new RegExp(`^${app}/node_modules/pcluster/node_modules/@pcluster/worker-runtime/dist/`),
    );
    await stop(cluster);
  });

  it('an app that imports { db } (ESM) or requires it (CommonJS) gets the runtime bundled in pcluster, with nothing else installed', async () => {
    const app = await appWith('app-db', { 'app.js': APP_WITH_DB_IMPORT, 'helper.cjs': HELPER_CJS }, [pclusterTarball()]);
    const cluster = await startIn(app);
    const { status, body } = await getJson(cluster.url);
    expect(status).to.equal(200);
    expect(body).to.include({ answer: 42, sameDb: true });
    const bundled = `${app}/node_modules/pcluster/node_modules/@pcluster/worker-runtime/dist/`;
    expect(body['runtime']).to.equal(`file://${bundled}index.js`);
    expect(body['workerMain']).to.match(new RegExp(`^${bundled}`));
    await stop(cluster);
  });

  it('an app with the runtime tarball installed beside pcluster (for its types) resolves its own copy and shares the worker\'s connection', async () => {
    const app = await appWith('app-db-beside', { 'app.js': APP_WITH_DB_IMPORT, 'helper.cjs': HELPER_CJS }, [pclusterTarball(), runtimeTarball()]);
    const cluster = await startIn(app);
    const { status, body } = await getJson(cluster.url);
    expect(status).to.equal(200);
    expect(body).to.include({ answer: 42, sameDb: true });
    await stop(cluster);
  });
});
