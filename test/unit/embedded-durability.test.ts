import { expect } from 'chai';
import { embeddedAnnouncement, type AnnouncedServer } from 'pcluster/internal/embedded-announcement';
import { serverArgs, type ServerArgsInput } from 'pcluster/internal/postgres/server-args';

const argsInput = (overrides: Partial<ServerArgsInput> = {}): ServerArgsInput => ({
  dataDir: '/srv/pg', isTemporary: false, host: '127.0.0.1', port: 5433, socketDir: '/tmp/sock', maxConnections: 100, settings: {}, ...overrides,
});

/** The -c settings of a postgres command line, by name (a later -c wins, as in postgres). */
function settingsOf(args: readonly string[]): Record<string, string> {
  const settings: Record<string, string> = {};
  args.forEach((arg, i) => {
    if (arg !== '-c') return;
    const [name, value] = args[i + 1]!.split('=') as [string, string];
    settings[name] = value;
  });
  return settings;
}

describe('serverArgs', () => {
  it('gives a kept data dir PostgreSQL\'s durable defaults: no fsync, synchronous_commit or full_page_writes on the command line', () => {
    const args = serverArgs(argsInput());
    expect(args.slice(0, 6)).to.deep.equal(['-D', '/srv/pg', '-p', '5433', '-k', '/tmp/sock']);
    expect(settingsOf(args)).to.deep.equal({ listen_addresses: '127.0.0.1', max_connections: '100' });
  });

  it('turns durability off for a temp cluster only', () => {
    expect(settingsOf(serverArgs(argsInput({ isTemporary: true })))).to.include({ fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' });
  });

  it('lets the caller\'s settings win', () => {
    expect(settingsOf(serverArgs(argsInput({ isTemporary: true, settings: { fsync: 'on' } })))).to.include({ fsync: 'on', synchronous_commit: 'off' });
    expect(settingsOf(serverArgs(argsInput({ settings: { synchronous_commit: 'off' } })))).to.include({ synchronous_commit: 'off' }).and.not.have.property('fsync');
  });
});

describe('embeddedAnnouncement', () => {
  const server = (overrides: Partial<AnnouncedServer>): AnnouncedServer => ({
    host: '127.0.0.1', port: 5433, database: 'pcluster', user: 'pcluster', dataDir: '/srv/pg', version: '15.18', isTemporary: false, durabilityOff: [], ...overrides,
  });

  it('says a kept, durable data dir is kept and durable', () => {
    const { message, fields } = embeddedAnnouncement(server({}));
    expect(message).to.equal('embedded PostgreSQL 15.18 in /srv/pg (kept, durable) on 127.0.0.1:5433, database "pcluster"');
    expect(fields).to.include({ kept: true, durable: true, dataDir: '/srv/pg', port: 5433 });
  });

  it('says a throwaway dir runs with durability off and is removed at stop', () => {
    const { message, fields } = embeddedAnnouncement(server({ dataDir: '/tmp/pg-x', isTemporary: true, durabilityOff: ['fsync', 'synchronous_commit', 'full_page_writes'] }));
    expect(message).to.include('in /tmp/pg-x (throwaway: fsync, synchronous_commit, and full_page_writes off, removed at stop)');
    expect(fields).to.include({ kept: false, durable: false });
  });

  it('names what is off in a kept dir whose own configuration turned it off', () => {
    expect(embeddedAnnouncement(server({ durabilityOff: ['synchronous_commit'] })).message).to.include('(kept, synchronous_commit off)');
  });
});
