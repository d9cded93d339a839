import { expect } from 'chai';
import pg from 'pg';

/**
 * The node-postgres internals packages/worker-runtime/src/pg-internals.ts relies on. Nothing here
 * connects: it checks the shapes, so that a pg upgrade that renames or drops one fails here, by name,
 * before it fails a worker (the behaviour itself is covered end to end: prepared statements described
 * once, unsendable values, stale plans).
 */
describe('node-postgres internals pcluster relies on', () => {
  it('Query has the methods PreparedQuery overrides or calls', () => {
    for (const method of ['prepare', 'hasBeenParsed', 'handleRowDescription', 'handleCommandComplete', 'handleError', '_getRows', 'submit']) {
      expect(typeof (pg.Query.prototype as unknown as Record<string, unknown>)[method], `Query.prototype.${method}`).to.equal('function');
    }
    const query = new pg.Query('SELECT 1', [], () => {}) as unknown as Record<string, unknown>;
    for (const field of ['text', 'values', 'name', 'portal', 'callback']) expect(query, `query.${field}`).to.have.property(field);
    expect(query['queryMode'], 'queryMode is read by requiresPreparation()').to.equal(undefined);
    query['queryMode'] = 'extended';
    expect((query as unknown as { requiresPreparation(): boolean }).requiresPreparation()).to.equal(true);
  });

  it("a Query's Result builds rows from the columns, parsers and empty-row template PreparedQuery sets without a RowDescription", () => {
    const query = new pg.Query('SELECT 1', [], () => {}) as unknown as { _result: Record<string, unknown> & { parseRow(values: unknown[]): unknown }; _accumulateRows?: unknown };
    const result = query._result;
    for (const field of ['fields', '_parsers', '_types', '_prebuiltEmptyResultObject']) expect(result, `result.${field}`).to.have.property(field);
    (result as unknown as { addFields(fields: unknown[]): void }).addFields([{ name: 'id', dataTypeID: 23, format: 'text' }]);
    expect(result['_parsers']).to.be.an('array').with.length(1);
    expect(result['_prebuiltEmptyResultObject']).to.deep.equal({ id: null });
    result['_parsers'] = [(value: string) => `#${value}`];
    result['_prebuiltEmptyResultObject'] = { id: null, template: true };
    expect(result.parseRow(['7'])).to.deep.equal({ id: '#7', template: true });
    expect(String((pg.Query.prototype as unknown as Record<string, unknown>)['handleDataRow']), 'handleDataRow keeps rows when _accumulateRows is set').to.include('_accumulateRows');
  });

  it('a Connection keeps its parsed and submitted statement names and has the message writers PreparedQuery calls', () => {
    const connection = new pg.Client({ pipeline: true }).connection as unknown as Record<string, unknown>;
    expect(connection['parsedStatements']).to.be.an('object');
    expect(connection['submittedNamedStatements']).to.be.an('object');
    for (const method of ['parse', 'bind', 'describe', 'execute', 'sync']) expect(typeof connection[method], `connection.${method}`).to.equal('function');
    expect(connection['stream'], 'connection.stream, destroyed by destroySocket()').to.have.property('destroy');
  });

  it('pg.utils.prepareValue serialises a value as Bind sends it', () => {
    const { prepareValue } = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } }).utils;
    expect(prepareValue(1)).to.equal('1');
    expect(prepareValue({ a: 1 })).to.equal('{"a":1}');
  });

  it('Client has the pipeline mode and the transaction status pcluster builds on', () => {
    const client = new pg.Client({ pipeline: true });
    expect(client.pipeline).to.equal(true);
    expect(client.getTransactionStatus()).to.equal(null);
  });
});
