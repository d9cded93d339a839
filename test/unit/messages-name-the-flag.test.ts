import { expect } from 'chai';
import pg from 'pg';
import { describeConnectFailure } from '@pcluster/worker-runtime/internal/connect-settings';
import { budgetRefusal } from 'pcluster/internal/check-server-capacity';
import { closestFlag, suggestFlag, unknownFlags } from 'pcluster/internal/flag-suggestion';

const capacity = (connections: number) => ({ connections, description: `PostgreSQL at db:5432 can give (max_connections ${connections + 3} minus 3 reserved = ${connections})` });

describe('messages that name the flag the user gave or should give', () => {
  describe('budgetRefusal()', () => {
    it('the default budget (workers + 1) is called the default, with the --workers and --max-connections that fit', () => {
      expect(budgetRefusal({ maxConnections: 21, isExplicit: false, workers: 20 }, capacity(20))).to.equal(
        '--workers 20 needs 21 connections (--max-connections defaults to workers + 1, one spare for replacements) but PostgreSQL at db:5432 can give ' +
          '(max_connections 23 minus 3 reserved = 20); pass --workers 19 or fewer, --max-connections 20 to keep 20 workers with no spare connection for replacements, ' +
          'or raise max_connections on the server',
      );
    });

    it('far too many workers for the default: only fewer workers (or a bigger server) help', () => {
      const line = budgetRefusal({ maxConnections: 41, isExplicit: false, workers: 40 }, capacity(20));
      expect(line).to.match(/^--workers 40 needs 41 connections .*; pass --workers 19 or fewer, or raise max_connections on the server$/);
    });

    it('a --max-connections the user gave is named as given, with the value that fits', () => {
      expect(budgetRefusal({ maxConnections: 30, isExplicit: true, workers: 4 }, capacity(20))).to.equal(
        '--max-connections 30 is more than PostgreSQL at db:5432 can give (max_connections 23 minus 3 reserved = 20); lower --max-connections to 20 or less (at least --workers 4), or raise max_connections on the server',
      );
      expect(budgetRefusal({ maxConnections: 30, isExplicit: true, workers: 25 }, capacity(20))).to.match(/lower --workers to 20 or less and --max-connections with it/);
    });
  });

  describe('describeConnectFailure()', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    // What node-postgres' defaults resolve to with $USER unset (pg reads $USER for both): no user and no database.
    const defaults = { host: 'localhost', port: 5432, user: undefined, database: undefined } as unknown as pg.Client;

    it('told nothing about the database: says so, names every way to tell it, and never prints "undefined"', () => {
      const line = describeConnectFailure(defaults, refused, 'defaults');
      expect(line).to.match(/^no database configured \(no --database-url, DATABASE_URL, PGHOST\/PGPORT\/PGDATABASE\/PGUSER or --embedded-postgres/);
      expect(line).to.include('node-postgres\' defaults were tried: cannot connect to PostgreSQL at localhost:5432, database (none), user (none): connect ECONNREFUSED');
      expect(line).to.match(/give --database-url .*DATABASE_URL.*PG\* variables.*--embedded-postgres/);
      expect(line).not.to.include('undefined').and.not.to.include('\n');
    });

    it('settings pcluster was given: where, as whom and why', () => {
      const client = new pg.Client({ host: 'db.example', port: 6432, user: 'app', database: 'shop' });
      expect(describeConnectFailure(client, refused)).to.equal('cannot connect to PostgreSQL at db.example:6432, database "shop", user "app": connect ECONNREFUSED 127.0.0.1:5432');
    });
  });

  describe('flag suggestions', () => {
    const known = ['workers', 'w', 'port', 'p', 'metrics-port', 'max-connections', 'json', 'help', 'version'];

    it('finds the mistyped --flags, not values, aliases, --no- forms or what follows --', () => {
      expect(unknownFlags(['app.js', '--wrokers', '3', '-w', '2', '--port=80', '--no-json', '--prot', '--', '--later'], known)).to.deep.equal(['wrokers', 'prot']);
    });

    it('suggests the closest known flag when it is a likely typo, nothing for a word that resembles none', () => {
      expect(suggestFlag(['start', 'app.js', '--wrokers', '3'], known)).to.equal('did you mean --workers?');
      expect(closestFlag('metric-port', known)).to.equal('metrics-port');
      expect(closestFlag('jsno', known)).to.equal('json');
      expect(suggestFlag(['start', 'app.js', '--banana'], known)).to.equal(undefined);
      expect(closestFlag('x', known), 'one-letter aliases are never suggested').to.equal(undefined);
    });
  });
});
