import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { CLI, REPO_ROOT, spawnCluster, startCluster, fixture } from '../support/cluster-process.js';
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
});
