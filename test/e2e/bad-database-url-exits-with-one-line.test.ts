import { expect } from 'chai';
import { useTempDir } from '../support/temp-dir.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnCluster, fixture, type SpawnOptions } from '../support/cluster-process.js';

const lines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');
const PASSWORD = 'Tr0ub4dor-s3cret';
const EXPECTED_FORM = /use a postgres:\/\/ URL, for example postgres:\/\/user:password@host:port\/db/;

describe('a bad database URL exits with one line and the documented status', () => {
  const tempDir = useTempDir('pcluster-bad-url');

  const file = (name: string, content: string): string => {
    writeFileSync(path.join(tempDir(), name), content);
    return path.join(tempDir(), name);
  };

  const cases: { what: string; spawn: () => SpawnOptions; says: RegExp }[] = [
    {
      what: 'a malformed --database-url',
      spawn: () => ({ databaseUrl: `postgres://app:${PASSWORD}@127.0.0.1:notaport/shop` }),
      says: /^pcluster: --database-url: "postgres:\/\/app:\*\*\*@127\.0\.0\.1:notaport\/shop" is not a valid URL \(Invalid URL\); /,
    },
    {
      what: 'a mysql:// DATABASE_URL (from an --env-file)',
      spawn: () => ({ databaseUrl: null, args: ['--env-file', file('.env', `DATABASE_URL=mysql://app:${PASSWORD}@127.0.0.1:3306/shop\n`)] }),
      says: /^pcluster: DATABASE_URL \(environment\): "mysql:\/\/app:\*\*\*@127\.0\.0\.1:3306\/shop" is not a PostgreSQL URL; /,
    },
    {
      what: '"not a url" as a config file\'s database-url',
      spawn: () => ({ databaseUrl: null, args: ['--config', file('pcluster.json', JSON.stringify({ 'database-url': 'not a url' }))] }),
      says: /^pcluster: "database-url" in .*pcluster\.json: "not a url" is not a PostgreSQL URL; /,
    },
    {
      what: 'a password with an unencoded "/" and "#"',
      spawn: () => ({ databaseUrl: `postgresql://app:${PASSWORD}/#x@127.0.0.1:5432/shop` }),
      says: /^pcluster: --database-url: "postgresql:\/\/app:\*\*\*@127\.0\.0\.1:5432\/shop" is not a valid URL \(Invalid URL\); .*percent-encoded$/,
    },
  ];
  for (const { what, spawn, says } of cases) {
    it(`${what}: exit 2, naming the setting and the expected form, never the password`, async () => {
      const cluster = await spawnCluster(fixture('routes.mjs'), { workers: 1, ...spawn() });
      expect(await cluster.exitCodeWithin(20_000), cluster.stderr).to.equal(2);
      expect(lines(cluster.stderr), cluster.stderr).to.have.length(1);
      expect(cluster.stderr.trim()).to.match(says).and.to.match(EXPECTED_FORM);
      expect(cluster.stderr + cluster.stdout).not.to.include(PASSWORD);
      expect(cluster.stdout, 'nothing was forked').not.to.match(/worker/);
    });
  }

});
