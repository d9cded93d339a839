import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { startCluster, fixture, type ClusterProcess, type SpawnOptions } from './cluster-process.js';
import { getJson } from './http.js';
import { startLoad } from './load.js';
import { requestAll } from './requests.js';
import { waitFor } from './wait-for.js';

/** A database of its own for one app, so that PostgreSQL's count of backends on it is the app's alone. */
export interface AppDatabase {
  readonly name: string;
  readonly url: string;
  /** An env file holding DATABASE_URL, as the app's own `.env` would (passed with --env-file). */
  readonly envFile: string;
  drop(): Promise<void>;
}

/** Creates a fresh database on the test server (dropped, with any backend left on it, by `drop()`). */
export async function createAppDatabase(admin: pg.Client, label: string): Promise<AppDatabase> {
  const name = `app_${label.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}_${process.pid}`;
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(process.env['PCLUSTER_TEST_DATABASE_URL']!);
  url.pathname = `/${name}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pcluster-app-env-'));
  const envFile = path.join(dir, '.env');
  writeFileSync(envFile, `DATABASE_URL=${url.href}\n`, { mode: 0o600 });
  return {
    name,
    url: url.href,
    envFile,
    async drop() {
      rmSync(dir, { recursive: true, force: true });
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** The client backends PostgreSQL shows on `database`, the asking connection excluded. */
export async function databaseBackends(admin: pg.Client, database: string): Promise<{ pid: number; application_name: string }[]> {
  const { rows } = await admin.query(
    "SELECT pid, application_name FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid() ORDER BY application_name, pid",
    [database],
  );
  return rows;
}

/** Samples the backends on `database` every `intervalMs` until stopped; min and max are what the one-connection guarantee is about. */
export function sampleDatabaseBackends(admin: pg.Client, database: string, intervalMs = 50): { stop(): Promise<{ min: number; max: number; samples: number }> } {
  let [min, max, samples] = [Infinity, 0, 0];
  let isRunning = true;
  const loop = (async () => {
    while (isRunning) {
      const n = (await databaseBackends(admin, database)).length;
      [min, max, samples] = [Math.min(min, n), Math.max(max, n), samples + 1];
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      isRunning = false;
      await loop;
      return { min, max, samples };
    },
  };
}

/** Starts `existing-apps/<file>` unchanged: told where its database is as a user would (--database-url for pcluster, the app's .env for the app). */
export async function startExistingApp(file: string, database: AppDatabase, options: SpawnOptions = {}): Promise<ClusterProcess> {
  return startCluster(fixture(`existing-apps/${file}`), {
    workers: 2,
    ...options,
    databaseUrl: database.url,
    args: ['--env-file', database.envFile, ...(options.args ?? [])],
  });
}

/** POSTs a JSON body and parses the JSON answer. */
export async function postJson(url: string, body: unknown): Promise<{ status: number; body: Record<string, any> }> {
  return getJson(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** POSTs every body to `url`, at most `concurrency` at a time; the statuses in order. */
export async function postAll(url: string, bodies: readonly unknown[], concurrency: number): Promise<number[]> {
  const statuses: number[] = new Array(bodies.length);
  let next = 0;
  const client = async (): Promise<void> => {
    for (let index = next++; index < bodies.length; index = next++) statuses[index] = (await postJson(url, bodies[index])).status;
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, bodies.length) }, client));
  return statuses;
}

/**
 * What every fixture app in test/fixtures/existing-apps answers (an accounts service): its routes work,
 * its transactions commit and roll back, it holds exactly one connection per worker (the workers'
 * own, named after the cluster) while it serves and under load, and leaves nothing after a graceful stop.
 */
export async function expectAccountsAppRunsUnchanged(admin: pg.Client, file: string): Promise<void> {
  const database = await createAppDatabase(admin, file.replace(/\.[cm]?js$/, ''));
  try {
    const cluster = await startExistingApp(file, database);
    const url = cluster.url;
    const onlyTheWorkers = async (): Promise<void> => {
      const backends = await databaseBackends(admin, database.name);
      expect(backends.map((b) => b.application_name), `backends on ${database.name}`).to.deep.equal([1, 2].map((slot) => `pcluster:${cluster.name}:${slot}`));
    };

    expect((await getJson(`${url}/health`)).body).to.include({ status: 'ok' });
    await onlyTheWorkers();

    // Routes: write, read, not found.
    const alice = await postJson(`${url}/accounts`, { owner: 'alice', balance: 100 });
    const bob = await postJson(`${url}/accounts`, { owner: 'bob', balance: 100 });
    expect([alice.status, bob.status]).to.deep.equal([201, 201]);
    expect(alice.body).to.include({ owner: 'alice', balance: 100 });
    const [a, b] = [alice.body['id'] as number, bob.body['id'] as number];
    expect((await getJson(`${url}/accounts/${a}`)).body).to.deep.equal({ id: a, owner: 'alice', balance: 100 });
    expect((await getJson(`${url}/accounts/999999`)).status).to.equal(404);

    // Transactions: one commits; one fails after its credit was written, and the rollback undoes the credit.
    expect(await postJson(`${url}/transfer`, { from: a, to: b, amount: 30 })).to.deep.equal({ status: 200, body: { from: 70, to: 130 } });
    expect((await postJson(`${url}/transfer`, { from: a, to: b, amount: 500 })).status).to.equal(409);
    expect((await postJson(`${url}/transfer`, { from: a, to: 999999, amount: 5 })).status).to.equal(404);
    expect((await getJson(`${url}/accounts/${a}`)).body['balance']).to.equal(70);
    expect((await getJson(`${url}/accounts/${b}`)).body['balance']).to.equal(130);

    // The app's queries run on its worker's one connection: one backend pid per worker, and it is the worker's.
    const pids = await requestAll(Array.from({ length: 40 }, () => `${url}/pid`), 4);
    const backendsByWorker = new Map<number, Set<number>>();
    for (const { status, body } of pids) {
      expect(status).to.equal(200);
      backendsByWorker.set(body!['workerPid'], (backendsByWorker.get(body!['workerPid']) ?? new Set()).add(body!['backendPid']));
    }
    for (const seen of backendsByWorker.values()) expect(seen.size).to.equal(1);
    const workerBackends = (await databaseBackends(admin, database.name)).map((backend) => backend.pid);
    expect(workerBackends).to.include.members([...backendsByWorker.values()].flatMap((seen) => [...seen]));

    // Concurrent transfers both ways, under read load: the total never moves, no request fails, two backends throughout.
    const sampler = sampleDatabaseBackends(admin, database.name);
    const load = startLoad(`${url}/accounts/${a}`, 16);
    const transfers = Array.from({ length: 120 }, (_, i) => (i % 2 === 0 ? { from: a, to: b, amount: 1 } : { from: b, to: a, amount: 1 }));
    const statuses = await postAll(`${url}/transfer`, transfers, 12);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const outcome = await load.stop();
    const backends = await sampler.stop();
    expect(statuses.filter((status) => status !== 200), 'transfer statuses').to.deep.equal([]);
    expect(outcome.failures, JSON.stringify(outcome)).to.equal(0);
    expect(outcome.requests).to.be.greaterThan(100);
    expect(backends, `backends on ${database.name} sampled under load`).to.include({ min: 2, max: 2 });
    expect((await getJson(`${url}/total`)).body).to.deep.equal({ accounts: 2, total: 200 });
    expect((await getJson(`${url}/accounts/${a}`)).body['balance']).to.equal(70);
    await onlyTheWorkers();

    expect((await cluster.stop()).code).to.equal(0);
    await waitFor(async () => (await databaseBackends(admin, database.name)).length === 0, 2_000, `no backend left on ${database.name} after the stop`);
  } finally {
    await database.drop();
  }
}
