import pg from 'pg';
import { UsageError } from './options/index.js';

/** How many connections the server can give at most (`max_connections` minus the reserved slots), and whose figure it is. */
export interface ServerCapacity {
  readonly connections: number;
  readonly description: string;
}

/**
 * Refuses a connection budget the server cannot give: more than `max_connections` minus
 * the reserved slots, and returns that capacity (scaling up is held to it too). Says nothing
 * when the server cannot be reached: the workers then report that, with exit status 4.
 */
export async function checkServerCapacity(connectionString: string | undefined, budget: number, applicationName: string): Promise<ServerCapacity | undefined> {
  const client = new pg.Client({ connectionString, application_name: applicationName, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch {
    return;
  }
  try {
    const { rows } = await client.query<{ max: number; reserved: number }>(`
      SELECT current_setting('max_connections')::int AS max,
             current_setting('superuser_reserved_connections')::int
               + coalesce(nullif(current_setting('reserved_connections', true), ''), '0')::int AS reserved`);
    const { max, reserved } = rows[0]!;
    const capacity = { connections: max - reserved, description: `PostgreSQL at ${client.host}:${client.port} can give (max_connections ${max} minus ${reserved} reserved = ${max - reserved})` };
    if (budget > capacity.connections) {
      throw new UsageError(`--max-connections ${budget} is more than ${capacity.description}; use fewer workers or raise max_connections`);
    }
    return capacity;
  } finally {
    await client.end().catch(() => {});
  }
}
