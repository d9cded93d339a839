import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLI, REPO_ROOT, spawnCluster, startCluster, fixture } from '../support/cluster-process.js';
import { freePort } from '../support/free-port.js';
import { requestAll } from '../support/requests.js';
import { useOwnPostgres } from '../support/own-postgres.js';

/** The command line of every process in the cluster's process tree, as `ps -eo args` would show it. */
function commandLines(rootPid: number): string[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  const tree = [rootPid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree.map((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      return '';
    }
  });
}

describe('the database password', () => {
  const postgres = useOwnPostgres();

  it('appears in none of /metrics, /status, pcluster status, the logs, any process\'s command line, or a failed connect\'s error', async () => {
    const server = postgres();
    const { password } = server;
    expect(password.length).to.be.at.least(8);
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2, databaseUrl: server.connectionString });
    await fetch(`${cluster.url}/throw`).then((r) => r.text());
    await fetch(`${cluster.url}/reject-sql`).then((r) => r.text());
    const sources: Record<string, string> = {
      '/metrics': await (await fetch(`${cluster.metricsUrl}/metrics`)).text(),
      '/status': await (await fetch(`${cluster.metricsUrl}/status`)).text(),
      'pcluster status': (await promisify(execFile)(process.execPath, [CLI, 'status', '--name', cluster.name], { cwd: REPO_ROOT })).stdout,
      'pcluster status --json': (await promisify(execFile)(process.execPath, [CLI, 'status', '--json', '--name', cluster.name], { cwd: REPO_ROOT })).stdout,
      'process command lines': commandLines(cluster.child.pid!).join('\n'),
    };
    const lines = commandLines(cluster.child.pid!);
    expect(lines.filter((line) => line.startsWith('pcluster worker'))).to.have.length(2);
    expect(lines[0]).to.match(/^pcluster primary /);
    expect((await cluster.stop()).code).to.equal(0);
    sources['logs'] = cluster.stdout + cluster.stderr;

    const wrongUser = await spawnCluster(fixture('routes.mjs'), { workers: 1, databaseUrl: server.connectionString.replace(/^postgres:\/\/[^:]+:/, 'postgres://nobody:') });
    expect((await wrongUser.exited).code).to.equal(4);
    sources['failed connect'] = wrongUser.stdout + wrongUser.stderr;

    for (const [where, text] of Object.entries(sources)) {
      expect(text.length, where).to.be.greaterThan(0);
      expect(text.includes(password), `the password appears in ${where}`).to.equal(false);
      expect(text.includes(encodeURIComponent(password)), `the encoded password appears in ${where}`).to.equal(false);
    }
  });

  it('is not in the workers\' environment (DATABASE_URL from --env-file, PGPASSWORD), while the app still reads both', async () => {
    const server = postgres();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pcluster-secret-env-'));
    try {
      const envFile = path.join(dir, '.env');
      writeFileSync(envFile, `DATABASE_URL=${server.connectionString}\n`);
      const cluster = await startCluster(fixture('reads-database-env.cjs'), {
        workers: 2,
        databaseUrl: null,
        args: ['--env-file', envFile],
        env: { PGPASSWORD: server.password, APP_PORT: String(await freePort()) },
      });
      const outcomes = await requestAll(Array.from({ length: 20 }, () => cluster.url), 4);
      const pids = new Set<number>();
      for (const { status, body } of outcomes) {
        expect(status).to.equal(200);
        expect(body?.['answer']).to.equal(42);
        expect(body?.['databaseUrl']).to.equal(server.connectionString);
        expect(body?.['pgPassword']).to.equal(server.password);
        pids.add(body?.['pid']);
      }
      expect(pids.size).to.equal(2);
      for (const pid of pids) {
        const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
        expect(environ.split('\0').some((entry) => entry.startsWith('PCLUSTER_WORKER_SLOT=')), 'read the worker\'s environ').to.equal(true);
        expect(environ.includes(server.password), `the password is in worker ${pid}'s environment`).to.equal(false);
        expect(environ.split('\0').filter((entry) => /^(DATABASE_URL|PGPASSWORD)=/.test(entry))).to.deep.equal([]);
      }
      expect((await cluster.stop()).code).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
