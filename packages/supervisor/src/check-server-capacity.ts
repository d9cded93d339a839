import pg from 'pg';
import { UsageError } from './options/index.js';

/** How many connections the server can give at most (`max_connections` minus the reserved slots), and whose figure it is. */
export interface ServerCapacity {
  readonly connections: number;
  readonly description: string;
}

/** The budget asked for: --max-connections, whether the user gave it (else it is the default, workers + 1), and --workers. */
export interface RequestedBudget {
  readonly maxConnections: number;
  readonly isExplicit: boolean;
  readonly workers: number;
}

/** The one line refusing `budget` on a server that can give only `capacity`: it names the flag the user gave (or the default) and what to pass instead. */
export function budgetRefusal(budget: RequestedBudget, capacity: ServerCapacity): string {
  const { maxConnections, workers } = budget;
  const fits = capacity.connections;
  const raise = 'or raise max_connections on the server';
  if (budget.isExplicit) {
    const lower = fits >= workers ? `lower --max-connections to ${fits} or less (at least --workers ${workers})` : `lower --workers to ${fits} or less and --max-connections with it`;
    return `--max-connections ${maxConnections} is more than ${capacity.description}; ${lower}, ${raise}`;
  }
  const fixes = [
    ...(fits >= 2 ? [`pass --workers ${fits - 1} or fewer`] : []),
    ...(fits >= workers ? [`--max-connections ${fits} to keep ${workers} workers with no spare connection for replacements`] : []),
  ];
  return `--workers ${workers} needs ${maxConnections} connections (--max-connections defaults to workers + 1, one spare for replacements) ` +
    `but ${capacity.description}; ${[...fixes, raise].join(', ')}`;
}

/**
 * Refuses a connection budget the server cannot give: more than `max_connections` minus
 * the reserved slots, and returns that capacity (scaling up is held to it too). Says nothing
 * when the server cannot be reached: the workers then report that, with exit status 4.
 */
export async function checkServerCapacity(connectionString: string | undefined, budget: RequestedBudget, applicationName: string): Promise<ServerCapacity | undefined> {
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
    if (budget.maxConnections > capacity.connections) throw new UsageError(budgetRefusal(budget, capacity));
    return capacity;
  } finally {
    await client.end().catch(() => {});
  }
}
