import type { PostgresServer } from './postgres/index.js';

/** What the announcement reads of the server: no password, no connection string. */
export type AnnouncedServer = Pick<PostgresServer, 'host' | 'port' | 'database' | 'user' | 'dataDir' | 'version' | 'isTemporary' | 'durabilityOff'>;

export interface EmbeddedAnnouncement {
  readonly fields: Readonly<Record<string, unknown>>;
  readonly message: string;
}

const list = new Intl.ListFormat('en', { type: 'conjunction' });

/**
 * The log line that announces the embedded server: where it listens, where its data lives, and
 * whether that data is kept and survives a crash (a throwaway dir runs with durability off).
 */
export function embeddedAnnouncement(server: AnnouncedServer): EmbeddedAnnouncement {
  const { host, port, database, user, dataDir, version, isTemporary, durabilityOff } = server;
  const durable = durabilityOff.length === 0;
  const durability = durable ? 'durable' : `${list.format(durabilityOff)} off`;
  const mode = isTemporary ? `throwaway: ${durability}, removed at stop` : `kept, ${durability}`;
  return {
    fields: { host, port, database, user, dataDir, version, kept: !isTemporary, durable },
    message: `embedded PostgreSQL ${version} in ${dataDir} (${mode}) on ${host}:${port}, database "${database}"`,
  };
}
