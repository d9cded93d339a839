import { expect } from 'chai';
import { refusal, startInput } from '../support/start-input.js';
import { parseDatabaseUrl, redactDatabaseUrl, resolveStartOptions } from 'pcluster/internal/options/index';

const input = startInput;

const EXPECTED = 'use a postgres:// URL, for example postgres://user:password@host:port/db (postgresql:// too; a socket as postgres:///db?host=/var/run/postgresql)';

describe('parseDatabaseUrl()', () => {
  it('accepts the postgres:// and postgresql:// forms node-postgres reads, sockets included', () => {
    for (const url of [
      'postgres://app:s3cret@db.example:5432/shop', 'postgresql://app@db.example/shop', 'POSTGRES://db.example/shop', 'postgres:///shop?host=/var/run/postgresql',
      'postgresql://%2Fvar%2Frun%2Fpostgresql/shop', 'postgres://app:pw@/shop?host=/tmp', 'postgres://[::1]:5432/shop', 'postgres://app:p%2Fw@db.example/shop?sslmode=disable',
    ]) {
      expect(parseDatabaseUrl(url, '--database-url')).to.equal(url);
    }
  });

  it('refuses another scheme, or no URL at all, naming the setting and the expected form', () => {
    expect(refusal(() => parseDatabaseUrl('mysql://app:s3cret@db:3306/shop', 'DATABASE_URL (environment)'))).to.equal(
      `DATABASE_URL (environment): "mysql://app:***@db:3306/shop" is not a PostgreSQL URL; ${EXPECTED}`,
    );
    expect(refusal(() => parseDatabaseUrl('not a url', '--database-url'))).to.equal(`--database-url: "not a url" is not a PostgreSQL URL; ${EXPECTED}`);
    for (const other of ['socket:/var/run/postgresql?db=shop', '/var/run/postgresql shop', 'host=db password=s3cret dbname=shop', 'db.example:5432/shop', '']) {
      const message = refusal(() => parseDatabaseUrl(other, '--database-url'));
      expect(message).to.match(/is not a PostgreSQL URL/);
      expect(message).not.to.include('s3cret');
    }
  });

  it('refuses a malformed URL with the reason, never showing its password', () => {
    const cases = ['postgres://app:s3cret@db.example:notaport/shop', 'postgres://app:s3/cret@db.example/shop', 'postgres://app:s3#cret@db.example/shop', 'postgres://app:s3cret@db.example:99999/shop'];
    for (const url of cases) {
      const message = refusal(() => parseDatabaseUrl(url, '"database-url" in pcluster.json'));
      expect(message).to.match(/^"database-url" in pcluster\.json: "postgres:\/\/app:\*\*\*@db.*" is not a valid URL \(Invalid URL\); use a postgres:\/\/ URL, for example postgres:\/\/user:password@host:port\/db .*percent-encoded$/);
      expect(message).not.to.match(/s3|cret/);
    }
    expect(refusal(() => parseDatabaseUrl('postgres://app:s3 cret@d b/shop', '--database-url'))).to.equal(`--database-url: "postgres://app:***@d b/shop" has a space in its host; ${EXPECTED}`);
  });

  it('names whichever setting the user used', () => {
    expect(refusal(() => resolveStartOptions(input({ flags: { databaseUrl: 'mysql://x@y/z' } })))).to.match(/^--database-url: /);
    expect(refusal(() => resolveStartOptions(input({ env: { DATABASE_URL: 'mysql://x@y/z' } })))).to.match(/^DATABASE_URL \(environment\): /);
    expect(refusal(() => resolveStartOptions(input({ fileConfig: { 'database-url': 'mysql://x@y/z' } })))).to.match(/^"database-url" in pcluster\.json: /);
    expect(refusal(() => resolveStartOptions(input({ fileConfig: { databaseUrl: 'mysql://x@y/z' } })))).to.match(/^"databaseUrl" in pcluster\.json: /);
  });
});

describe('redactDatabaseUrl()', () => {
  it('hides the password of a well-formed or malformed connection string, and nothing else', () => {
    expect(redactDatabaseUrl('postgres://app:s3cret@db.example:5432/shop')).to.equal('postgres://app:***@db.example:5432/shop');
    expect(redactDatabaseUrl('postgres://app:s3@c/r et@db.example/shop')).to.equal('postgres://app:***@db.example/shop');
    expect(redactDatabaseUrl('app:s3cret@db/shop')).to.equal('app:***@db/shop');
    expect(redactDatabaseUrl('postgres://db/shop?user=app&password=s3cret&sslmode=require')).to.equal('postgres://db/shop?user=app&password=***&sslmode=require');
    expect(redactDatabaseUrl("host=db password='s 3' dbname=shop")).to.equal('host=db password=*** dbname=shop');
    expect(redactDatabaseUrl('postgres://app@db:5432/shop')).to.equal('postgres://app@db:5432/shop');
    expect(redactDatabaseUrl('postgres://db:5432/shop')).to.equal('postgres://db:5432/shop');
  });
});
