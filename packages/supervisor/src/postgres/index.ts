export type { PostgresServer, PostgresServerOptions } from './postgres-server.js';
export { startPostgres } from './start-postgres.js';
export { findPostgresBinaries, type PostgresBinaries } from './find-postgres-binaries.js';
export { embeddedBinDir } from './embedded-bin-dir.js';
export { freePort } from './free-port.js';
export { PostgresServerError, POSTGRES_SERVER_ERROR_CODES, type PostgresServerErrorCode } from './postgres-server-error.js';
export { PASSWORD_FILE } from './cluster-password.js';
