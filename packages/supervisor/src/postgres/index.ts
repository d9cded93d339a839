export { startPostgres, PostgresServer, freePort, type PostgresServerOptions } from './postgres-server.js';
export { findPostgresBinaries, embeddedBinDir, type PostgresBinaries } from './find-binaries.js';
