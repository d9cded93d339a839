export const POSTGRES_SERVER_ERROR_CODES = [
  'PCLUSTER_PG_NO_BINARIES',
  'PCLUSTER_PG_BAD_BINDIR',
  'PCLUSTER_PG_BINARIES_NOT_RUNNABLE',
  'PCLUSTER_PG_NO_OS_USER',
  'PCLUSTER_PG_BAD_OPTION',
  'PCLUSTER_PG_NO_PASSWORD',
  'PCLUSTER_PG_INITDB_FAILED',
  'PCLUSTER_PG_LOGIN_REFUSED',
  'PCLUSTER_PG_EXITED',
  'PCLUSTER_PG_START_TIMEOUT',
  'PCLUSTER_PG_DESTROYED',
] as const;

export type PostgresServerErrorCode = (typeof POSTGRES_SERVER_ERROR_CODES)[number];

/** A throwaway-server failure: one line naming the value and the fix, with a stable `code` to match on. */
export class PostgresServerError extends Error {
  readonly code: PostgresServerErrorCode;

  constructor(code: PostgresServerErrorCode, message: string) {
    super(message);
    this.name = 'PostgresServerError';
    this.code = code;
  }
}
