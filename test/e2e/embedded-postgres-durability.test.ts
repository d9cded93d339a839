import { expect } from 'chai';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixture, spawnCluster, type ClusterProcess, type LogLine } from '../support/cluster-process.js';
import { getJson } from '../support/http.js';

const DURABILITY_SETTINGS = ['fsync', 'synchronous_commit', 'full_page_writes'] as const;

/** The three crash-safety settings as a worker's connection to the embedded server sees them. */
async function durabilitySettings(cluster: ClusterProcess): Promise<Record<string, string>> {
  const settings: Record<string, string> = {};
  for (const name of DURABILITY_SETTINGS) {
    const { status, body } = await getJson(`${cluster.url}/setting?name=${name}`);
    expect(status, `SHOW ${name} through a request`).to.equal(200);
    settings[name] = body['value'];
  }
  return settings;
}

describe('the embedded PostgreSQL of pcluster start', function () {
  this.timeout(120_000);
  const clusters: ClusterProcess[] = [];
  const dirs: string[] = [];

  /** Starts routes.mjs on an embedded server and waits for its workers (initdb may take a while). */
  async function startEmbedded(embeddedArgs: readonly string[]): Promise<{ cluster: ClusterProcess; announcement: LogLine }> {
    const cluster = await spawnCluster(fixture('routes.mjs'), { databaseUrl: null, args: embeddedArgs });
    clusters.push(cluster);
    await cluster.waitForLog((line) => String(line.msg).includes('workers ready'), 90_000);
    const announcement = cluster.logs().find((line) => String(line.msg).startsWith('embedded PostgreSQL'));
    return { cluster, announcement: announcement ?? expect.fail('the embedded server is announced') };
  }

  afterEach(async () => {
    // A graceful stop, so the embedded server (in its own process group) stops with its cluster.
    await Promise.all(clusters.splice(0).map((cluster) => cluster.stop('SIGTERM')));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('runs a kept --embedded-postgres DIR with fsync, synchronous_commit and full_page_writes on, and says "kept, durable"', async () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'pcluster-test-'));
    dirs.push(parent);
    chmodSync(parent, 0o755); // as root the server runs as another OS user, which must reach the dir
    const dataDir = path.join(parent, 'data');
    const { cluster, announcement } = await startEmbedded(['--embedded-postgres', dataDir]);
    expect(await durabilitySettings(cluster)).to.deep.equal({ fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' });
    expect(announcement.msg).to.include(`in ${dataDir} (kept, durable)`);
    expect(announcement['durable']).to.equal(true);
    expect((await cluster.stop()).code).to.equal(0);
    expect(existsSync(path.join(dataDir, 'PG_VERSION')), 'the kept cluster is still there').to.equal(true);
  });

  it('runs the throwaway server (no DIR) with them off, says so, and removes its data at stop', async () => {
    const { cluster, announcement } = await startEmbedded(['--embedded-postgres']);
    expect(await durabilitySettings(cluster)).to.deep.equal({ fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' });
    const dataDir = String(announcement['dataDir']);
    expect(announcement.msg).to.include(`in ${dataDir} (throwaway: fsync, synchronous_commit, and full_page_writes off, removed at stop)`);
    expect(announcement['durable']).to.equal(false);
    expect(existsSync(dataDir)).to.equal(true);
    expect((await cluster.stop()).code).to.equal(0);
    expect(existsSync(dataDir), 'the throwaway data is gone').to.equal(false);
  });
});
