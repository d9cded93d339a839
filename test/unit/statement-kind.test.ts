import { expect } from 'chai';
import type { QueryConfig } from 'pg';
import { firstKeyword, statementKind } from '@pcluster/worker-runtime/internal/statement-kind';
import { QueryRunner } from '@pcluster/worker-runtime/internal/query-runner';

describe('statementKind()', () => {
  it('reads statements that can open or end a transaction as transaction control, however they are written', () => {
    for (const text of [
      'BEGIN', 'begin isolation level serializable', 'START TRANSACTION', 'COMMIT', 'END', 'ROLLBACK', 'abort', 'SAVEPOINT a',
      'RELEASE SAVEPOINT a', 'ROLLBACK TO SAVEPOINT a', "PREPARE TRANSACTION 'x'", 'COMMIT PREPARED \'x\'', 'CALL proc()', 'DO $$ BEGIN COMMIT; END $$',
      '  \n\tBEGIN', '-- a comment\nBEGIN', '/* a comment */ COMMIT', '/* nested /* comment */ still */ ROLLBACK', '((BEGIN',
    ]) {
      expect(statementKind(text), text).to.equal('transaction-control');
    }
  });

  it('reads one statement that cannot touch the transaction as single, trailing semicolons and all', () => {
    for (const text of [
      'SELECT 1', 'select now()', 'INSERT INTO t VALUES (1)', 'UPDATE t SET a = 1', 'DELETE FROM t', 'WITH x AS (SELECT 1) SELECT * FROM x',
      'VALUES (1)', 'TABLE t', '(SELECT 1) UNION (SELECT 2)', 'SELECT 1;', 'SELECT 1 ;  ;\n', '-- why\nSELECT 1', 'SHOW search_path', 'EXPLAIN SELECT 1',
    ]) {
      expect(statementKind(text), text).to.equal('single');
    }
  });

  it('errs towards a barrier: several statements, semicolons it cannot place, unknown keywords and unreadable text are other', () => {
    for (const text of [
      'SELECT 1; SELECT 2', 'SELECT 1; BEGIN', "SELECT ';'", 'SELECT 1 -- ; BEGIN', 'CREATE TABLE t (a int)', 'SET search_path = a',
      'LOCK t', 'VACUUM', '', '   ', '/* unclosed BEGIN', '/* /* */ SELECT */ BEGIN', '42',
    ]) {
      expect(statementKind(text), JSON.stringify(text)).to.not.equal('single');
    }
    expect(statementKind('/* /* */ SELECT */ BEGIN')).to.equal('transaction-control');
  });

  it('firstKeyword() skips white space, comments and parentheses', () => {
    expect(firstKeyword('  /* a /* b */ c */ -- d\n ( select 1')).to.equal('select');
    expect(firstKeyword('$1')).to.equal('');
  });
});

describe('QueryRunner.plan()', () => {
  const barrier = (text: string, values?: unknown[], runner = new QueryRunner('auto')): boolean => runner.plan(text, values).isBarrier;

  it('makes barriers of transaction control, and of simple-protocol text it cannot read as one safe statement', () => {
    expect(barrier('BEGIN')).to.equal(true);
    expect(barrier('COMMIT', [])).to.equal(true);
    expect(barrier('SELECT 1; SELECT 2')).to.equal(true);
    expect(barrier('CREATE TABLE IF NOT EXISTS t (a int)')).to.equal(true);
    expect(new QueryRunner('off').plan({ name: 'b', text: 'BEGIN' }, undefined).isBarrier).to.equal(true);
  });

  it('pipelines parameterised statements, named ones, and a single safe statement without parameters', () => {
    expect(barrier('SELECT $1::int', [1])).to.equal(false);
    expect(barrier('INSERT INTO t VALUES ($1)', [1])).to.equal(false);
    expect(barrier('CREATE TABLE t (a int DEFAULT $1)', [1]), 'the extended protocol carries one statement').to.equal(false);
    expect(barrier('SELECT now()')).to.equal(false);
    expect(new QueryRunner('off').plan({ name: 'n', text: 'SELECT 1' }, undefined).isBarrier).to.equal(false);
    expect(new QueryRunner('off').plan({ text: 'SELECT 1', rowMode: 'array' } as QueryConfig, undefined).isBarrier).to.equal(false);
  });
});
