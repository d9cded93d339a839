import { expect } from 'chai';
import pg from 'pg';
import { LIBPQ_TARGET_VARIABLES } from 'pcluster/internal/options/index';

/** What `new pg.Client()` would connect to with `env` as the environment. */
function target(env: Record<string, string>): { host: string; port: number; database: string | undefined; user: string | undefined } {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const client = new pg.Client();
    return { host: client.host, port: client.port, database: client.database, user: client.user };
  } finally {
    for (const name of Object.keys(env)) if (saved[name] === undefined) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

// A contract with node-postgres (lib/connection-parameters.js): it fails when an upgrade changes which variables pg reads.
describe('the libpq variables that configure the database', () => {
  const unset = Object.fromEntries(LIBPQ_TARGET_VARIABLES.map((name) => [name, '']));
  const baseline = target(unset);

  it('are exactly those by which node-postgres picks its server and login', () => {
    const values: Record<string, string> = { PGHOST: 'db.example', PGPORT: '6543', PGDATABASE: 'shop', PGUSER: 'shopper' };
    expect(Object.keys(values)).to.deep.equal([...LIBPQ_TARGET_VARIABLES]);
    for (const [name, value] of Object.entries(values)) {
      expect(target({ ...unset, [name]: value }), name).not.to.deep.equal(baseline);
    }
  });

  it('leave out PGHOSTADDR, which node-postgres does not read', () => {
    expect(target({ ...unset, PGHOSTADDR: '10.9.8.7' })).to.deep.equal(baseline);
  });
});
