/**
 * The libpq variables node-postgres reads (lib/connection-parameters.js) that say which server and login to use.
 * PGPASSWORD, PGSSLMODE and the like are left out: alone they name no server, and an app whose own Pool
 * config names one may rely on them for the password or TLS. PGHOSTADDR is left out because pg ignores it.
 */
export const LIBPQ_TARGET_VARIABLES = ['PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER'] as const;

/** Whether the environment tells node-postgres which server to connect to. */
export function isDatabaseNamedByEnvironment(env: NodeJS.ProcessEnv): boolean {
  return LIBPQ_TARGET_VARIABLES.some((name) => env[name] !== undefined && env[name] !== '');
}
