import { expect } from 'chai';
import { startCluster, fixture } from '../support/cluster-process.js';
import { useAdminClient, terminateBackends } from '../support/database.js';
import { getJson } from '../support/http.js';

describe('after a reconnect', () => {
  const admin = useAdminClient();

  it('--session settings still hold and a named prepared statement is prepared again transparently', async () => {
    const cluster = await startCluster(fixture('routes.mjs'), {
      workers: 1,
      args: ['--session', 'statement_timeout=4321ms', '--session', 'lock_timeout=1s'],
    });
    const setting = async (name: string): Promise<Record<string, any>> => (await getJson(`${cluster.url}/setting?name=${name}`)).body;
    expect((await setting('statement_timeout'))['value']).to.equal('4321ms');
    expect((await setting('lock_timeout'))['value']).to.equal('1s');
    const named = (await getJson(`${cluster.url}/named`)).body;
    expect(named['n']).to.equal(42);
    expect((await getJson(`${cluster.url}/named`)).body['pid'], 'the statement is reused on the same connection').to.equal(named['pid']);

    await terminateBackends(admin(), [named['pid']]);
    const again = (await getJson(`${cluster.url}/named`)).body;
    expect(again['pid']).not.to.equal(named['pid']);
    expect(again['n']).to.equal(42);
    expect((await setting('statement_timeout'))['value']).to.equal('4321ms');
    expect((await cluster.stop()).code).to.equal(0);
  });
});
