import { expect } from 'chai';
import { fixture, spawnCluster, startCluster } from '../support/cluster-process.js';
import { clusterBackends, useAdminClient } from '../support/database.js';
import { freePort } from '../support/free-port.js';
import { getJson, metricValue } from '../support/http.js';

/** The cluster's /metrics text. */
async function metricsText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

describe('an app that calls listen() itself and brings its own pg.Pool runs unchanged (SPEC §2, §2.1)', () => {
  const admin = useAdminClient();

  it('serves on --port through pcluster, on the workers\' own connections, with metrics and req.db', async () => {
    const cluster = await startCluster(fixture('listens-itself.cjs'), { workers: 2, env: { APP_PORT: String(await freePort()) } });
    const seen = new Map<number, number>();
    for (let i = 0; i < 20; i++) {
      const { status, body } = await getJson(`${cluster.url}/pids`);
      expect(status).to.equal(200);
      expect(body['hasReqDb']).to.equal(true);
      seen.set(body['workerPid'], body['backendPid']);
    }
    const backends = await clusterBackends(admin(), cluster.name);
    expect(backends).to.have.length(2);
    expect(backends.map((b) => b.pid)).to.include.members([...seen.values()]);
    expect(metricValue(await metricsText(cluster.metricsUrl), 'pcluster_http_requests_total{code="2xx"}')).to.be.at.least(20);
    expect((await cluster.stop()).code).to.equal(0);
    expect(await clusterBackends(admin(), cluster.name)).to.have.length(0);
  });

  it('keeps the port the app asked for when --port is not given', async () => {
    const appPort = await freePort();
    const cluster = await startCluster(fixture('listens-itself.cjs'), { workers: 1, port: null, env: { APP_PORT: String(appPort), PORT: '' } });
    const { status } = await getJson(`http://127.0.0.1:${appPort}/pids`);
    expect(status).to.equal(200);
    expect(cluster.logs().some((line) => String(line.msg).includes(`workers ready on http://0.0.0.0:${appPort}`)), cluster.stdout).to.equal(true);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('rolls back a transaction a pool client left open when the response ended, and counts it', async () => {
    const cluster = await startCluster(fixture('listens-itself.cjs'), { workers: 1, env: { APP_PORT: String(await freePort()) } });
    expect((await getJson(`${cluster.url}/leave-open`, { method: 'POST' })).status).to.equal(200);
    for (let i = 0; i < 5; i++) {
      const { body } = await getJson(`${cluster.url}/in-transaction`);
      expect(body['assigned']).to.equal(false);
    }
    const { rows } = await admin().query<{ state: string }>('SELECT state FROM pg_stat_activity WHERE application_name = $1', [`pcluster:${cluster.name}:1`]);
    expect(rows.map((r) => r.state)).to.deep.equal(['idle']);
    expect(metricValue(await metricsText(cluster.metricsUrl), 'pcluster_db_rollbacks_total')).to.equal(1);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('rolls back a transaction a pool client was released with, and counts it', async () => {
    await admin().query('DROP TABLE IF EXISTS listens_itself_writes');
    const cluster = await startCluster(fixture('listens-itself.cjs'), { workers: 1, env: { APP_PORT: String(await freePort()) } });
    expect((await getJson(`${cluster.url}/release-open`, { method: 'POST' })).status).to.equal(200);
    expect((await getJson(`${cluster.url}/in-transaction`)).body['assigned']).to.equal(false);
    const { rows } = await admin().query<{ n: number }>("SELECT count(*)::int AS n FROM listens_itself_writes WHERE via = 'released-open'");
    expect(rows[0]!.n).to.equal(0);
    expect(metricValue(await metricsText(cluster.metricsUrl), 'pcluster_db_rollbacks_total')).to.equal(1);
    expect((await cluster.stop()).code).to.equal(0);
    await admin().query('DROP TABLE listens_itself_writes');
  });

  it('fails a query through a second handle of the same request at once with PCLUSTER_CONNECTION_PINNED', async () => {
    const cluster = await startCluster(fixture('listens-itself.cjs'), { workers: 1, env: { APP_PORT: String(await freePort()) } });
    const { status, body } = await getJson(`${cluster.url}/pinned`);
    expect(status).to.equal(200);
    expect(body['code']).to.equal('PCLUSTER_CONNECTION_PINNED');
    expect(body['message']).to.match(/pg Pool #\d+.*in a transaction opened by .*pg Pool #\d+ client #\d+/);
    expect(body['ms']).to.be.below(1_000);
    expect((await getJson(`${cluster.url}/pids`)).status).to.equal(200);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('refuses LISTEN, which needs a connection of its own, with a coded error naming --pg-compat off', async () => {
    const cluster = await startCluster(fixture('listens-itself.cjs'), { workers: 1, env: { APP_PORT: String(await freePort()) } });
    const { body } = await getJson(`${cluster.url}/listen`);
    expect(body['code']).to.equal('PCLUSTER_PG_COMPAT_UNSUPPORTED');
    expect(body['message']).to.include('--pg-compat off');
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('exit 3 naming both forms when the app neither exports a handler nor listens within --timeout', async () => {
    const cluster = await spawnCluster(fixture('exports-nothing.mjs'), { workers: 2, args: ['--timeout', '2s'] });
    expect((await cluster.exited).code).to.equal(3);
    expect(cluster.stderr).to.match(/exports-nothing\.mjs exports nothing and did not call listen\(\) within 2s/);
    expect(cluster.stderr).to.include('export a (req, res) function as default or a named "handler"').and.to.include('app.listen(port)');
  });

  it('exit 3 when the app listens on two ports', async () => {
    const env = { APP_PORT: String(await freePort()), APP_PORT_2: String(await freePort()) };
    const cluster = await spawnCluster(fixture('listens-twice.mjs'), { workers: 2, env });
    expect((await cluster.exited).code).to.equal(3);
    expect(cluster.stderr).to.match(new RegExp(`listens on port ${env.APP_PORT} and on port ${env.APP_PORT_2}; pcluster serves one port per worker`));
  });
});

describe('module hooks and database work at load (SPEC §2)', () => {
  const admin = useAdminClient();

  it('reads setup() from a CommonJS module.exports that Node\'s export detection cannot see', async () => {
    const cluster = await startCluster(fixture('cjs-setup.cjs'), { workers: 1 });
    expect((await getJson(`${cluster.url}/answer`)).body).to.deep.equal({ answer: 42 });
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('runs load-time DDL of 4 workers on their own connections, one worker at a time, from an empty database', async () => {
    for (let round = 1; round <= 3; round++) {
      const table = `load_ddl_${process.pid}_${round}`;
      await admin().query(`DROP TABLE IF EXISTS ${table}, ${table}_setup`);
      const cluster = await startCluster(fixture('load-time-ddl.mjs'), { workers: 4, env: { DDL_TABLE: table } });
      const { status, body } = await getJson(`${cluster.url}/x`);
      expect(status).to.equal(200);
      expect((await clusterBackends(admin(), cluster.name)).map((b) => b.pid)).to.include(body['backend']);
      expect(await clusterBackends(admin(), cluster.name)).to.have.length(4);
      expect((await cluster.stop()).code).to.equal(0);
      await admin().query(`DROP TABLE IF EXISTS ${table}, ${table}_setup`);
    }
  });
});

describe('where the connection settings come from when pcluster is told nothing (SPEC §2.1)', () => {
  const admin = useAdminClient();
  /** The environment without anything that names a database, so that only the app's own config does. */
  const bare = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv =>
    Object.fromEntries(Object.entries({ ...process.env, ...extra }).map(([key, value]) => [key, /^PG[A-Z]+$/.test(key) ? undefined : value]));

  it('connects where the app\'s first Pool config points, one connection per worker', async () => {
    const env = bare({ APP_DATABASE_URL: process.env['PCLUSTER_TEST_DATABASE_URL'] });
    const cluster = await startCluster(fixture('pool-config-from-app.mjs'), { workers: 2, databaseUrl: null, env });
    const { status, body } = await getJson(cluster.url);
    expect(status).to.equal(200);
    const backends = await clusterBackends(admin(), cluster.name);
    expect(backends).to.have.length(2);
    expect(backends.map((b) => b.pid)).to.include(body['backend']);
    expect((await cluster.stop()).code).to.equal(0);
  });

  it('exit 4 naming host, port, database and user when the app\'s Pool config has a wrong password, never printing it', async () => {
    const url = new URL(process.env['PCLUSTER_TEST_DATABASE_URL']!);
    url.password = 'not-the-password-7731';
    const cluster = await spawnCluster(fixture('pool-config-from-app.mjs'), { workers: 2, databaseUrl: null, env: bare({ APP_DATABASE_URL: url.href }) });
    expect((await cluster.exited).code).to.equal(4);
    expect(cluster.stderr).to.match(new RegExp(`cannot connect to PostgreSQL at ${url.hostname}:${url.port}, database "${url.pathname.slice(1)}", user "${url.username}"`));
    expect(cluster.stdout + cluster.stderr).not.to.include('not-the-password-7731');
  });
});

describe('the app\'s own pg under concurrent load (SPEC §5.7)', () => {
  const admin = useAdminClient();

  it('no statement runs inside a transaction another request opened through a pool client or the shared global client', async () => {
    await admin().query('DROP TABLE IF EXISTS listens_itself_writes');
    const cluster = await startCluster(fixture('listens-itself.cjs'), { workers: 2, env: { APP_PORT: String(await freePort()) } });
    const routes = [['POST', '/write/pool'], ['POST', '/write/shared'], ['GET', '/in-transaction']] as const;
    const acknowledged = { pool: 0, shared: 0 };
    const problems: string[] = [];
    const deadline = Date.now() + 3_000;
    await Promise.all(Array.from({ length: 12 }, async (_, lane) => {
      for (let i = lane; Date.now() < deadline; i++) {
        const [method, path] = routes[i % routes.length]!;
        const { status, body } = await getJson(`${cluster.url}${path}`, { method });
        if (status !== 200) problems.push(`${path}: ${status} ${JSON.stringify(body)}`);
        else if (path === '/in-transaction' && body['assigned'] !== false) problems.push('a plain statement ran inside a transaction');
        else if (path.startsWith('/write/')) acknowledged[path === '/write/pool' ? 'pool' : 'shared'] += 1;
      }
    }));
    expect(problems).to.deep.equal([]);
    const { rows } = await admin().query<{ via: string; n: number }>('SELECT via, count(*)::int AS n FROM listens_itself_writes GROUP BY via ORDER BY via');
    expect(rows).to.deep.equal([{ via: 'pool', n: acknowledged.pool }, { via: 'shared', n: acknowledged.shared }]);
    expect(acknowledged.pool).to.be.above(10);
    expect(acknowledged.shared).to.be.above(10);
    expect(await clusterBackends(admin(), cluster.name)).to.have.length(2);
    expect((await cluster.stop()).code).to.equal(0);
    await admin().query('DROP TABLE listens_itself_writes');
  });
});

describe('--pg-compat off: the app\'s real pg, and what the server holds for the cluster (SPEC §2.1, §4)', () => {
  const admin = useAdminClient();

  it('the app\'s own connections show in /metrics and /status, and are never taken for orphans', async () => {
    const url = new URL(process.env['PCLUSTER_TEST_DATABASE_URL']!);
    // The real pg reads libpq's variables, as the app would under PM2.
    const libpq = { PGHOST: url.hostname, PGPORT: url.port, PGUSER: decodeURIComponent(url.username), PGPASSWORD: decodeURIComponent(url.password), PGDATABASE: url.pathname.slice(1) };
    // Off, nothing serialises the app's own DDL at load (as under PM2): two workers racing on
    // CREATE TABLE IF NOT EXISTS can both miss the table. Create it first, as a migration would.
    await admin().query('CREATE TABLE IF NOT EXISTS listens_itself_writes (id serial PRIMARY KEY, via text)');
    const cluster = await startCluster(fixture('listens-itself.cjs'), { workers: 2, args: ['--pg-compat', 'off'], env: { APP_PORT: String(await freePort()), ...libpq } });
    for (let i = 0; i < 10; i++) expect((await getJson(`${cluster.url}/pids`)).body['hasReqDb']).to.equal(true);
    const own = async (): Promise<number> =>
      (await admin().query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE $1', [`pcluster:${cluster.name}:%:app`])).rows[0]!.n;
    expect(await own()).to.be.at.least(2); // the shared global Client of each worker, and the pool's
    const deadline = Date.now() + 15_000;
    let status: Record<string, any> = {};
    while (Date.now() < deadline) {
      status = (await getJson(`${cluster.metricsUrl}/status`)).body;
      if (status['budget']['server'] === 2 + (await own())) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status['budget']).to.include({ held: 2, server: 2 + (await own()) });
    const metrics = await metricsText(cluster.metricsUrl);
    expect(metricValue(metrics, 'pcluster_db_server_connections')).to.equal(2 + (await own()));
    await new Promise((resolve) => setTimeout(resolve, 7_000)); // past the orphan grace (two checks + 4 s)
    expect(metricValue(await metricsText(cluster.metricsUrl), 'pcluster_db_orphans_terminated_total')).to.equal(0);
    expect((await getJson(`${cluster.url}/pids`)).status).to.equal(200);
    expect((await cluster.stop()).code).to.equal(0);
    expect(await own()).to.equal(0);
  });
});

describe('a Pool aimed at another database (SPEC §2.1)', () => {
  const admin = useAdminClient();

  it('is left to the real pg: logged once per worker, counted in pcluster_db_foreign_clients', async () => {
    const database = `pcluster_foreign_${process.pid}`;
    await admin().query(`DROP DATABASE IF EXISTS ${database}`);
    await admin().query(`CREATE DATABASE ${database}`);
    try {
      const url = new URL(process.env['PCLUSTER_TEST_DATABASE_URL']!);
      const mainDatabase = url.pathname.slice(1);
      url.pathname = `/${database}`;
      const cluster = await startCluster(fixture('foreign-pool.mjs'), { workers: 1, env: { OTHER_DATABASE_URL: url.href } });
      for (let i = 0; i < 3; i++) expect((await getJson(cluster.url)).body).to.include({ main: mainDatabase, other: database });
      expect(metricValue(await metricsText(cluster.metricsUrl), 'pcluster_db_foreign_clients')).to.equal(1);
      expect(cluster.logs().filter((line) => /points at another server or database/.test(String(line.msg)))).to.have.length(1);
      // The worker's own connection, and the foreign pool's, labelled as the app's.
      const names = (await clusterBackends(admin(), cluster.name)).map((b) => b.application_name).sort();
      expect(names).to.deep.equal([`pcluster:${cluster.name}:1`, `pcluster:${cluster.name}:1:app`]);
      expect((await cluster.stop()).code).to.equal(0);
    } finally {
      await admin().query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    }
  });
});
