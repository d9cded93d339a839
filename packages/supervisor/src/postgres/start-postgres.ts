import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomPassword, readClusterPassword, writeClusterPassword } from './cluster-password.js';
import { findPostgresBinaries } from './find-postgres-binaries.js';
import { freePort } from './free-port.js';
import { initCluster } from './init-cluster.js';
import { OwnedPostgresServer } from './owned-postgres-server.js';
import type { PostgresServer, PostgresServerOptions } from './postgres-server.js';
import { PostgresServerError } from './postgres-server-error.js';
import { ServerLog } from './server-log.js';
import { serverOsUser } from './server-os-user.js';
import { readServerVersion } from './server-version.js';

// The server's address is ours to choose: settings may not move it.
const RESERVED_SETTINGS = ['listen_addresses', 'port', 'unix_socket_directories', 'data_directory'];

function checkOptions(options: PostgresServerOptions): void {
  const bad = (message: string): PostgresServerError => new PostgresServerError('PCLUSTER_PG_BAD_OPTION', message);
  const { port, maxConnections, startTimeoutMs, settings = {} } = options;
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65_536)) throw bad(`port ${port} is not a TCP port; give 1-65535 or omit it for a free one`);
  if (maxConnections !== undefined && !(Number.isInteger(maxConnections) && maxConnections > 0)) throw bad(`maxConnections ${maxConnections} is not a positive integer`);
  if (startTimeoutMs !== undefined && !(startTimeoutMs > 0)) throw bad(`startTimeoutMs ${startTimeoutMs} is not a positive number of milliseconds`);
  const reserved = Object.keys(settings).find((name) => RESERVED_SETTINGS.includes(name.toLowerCase()));
  if (reserved !== undefined) throw bad(`settings.${reserved} cannot be set: the server listens on 127.0.0.1 (use the port option to choose the port)`);
}

/** A reused cluster must match the binaries' major version, or postgres refuses it with a less direct message. */
function checkClusterVersion(dataDir: string, binDir: string, version: string): void {
  const clusterMajor = readFileSync(path.join(dataDir, 'PG_VERSION'), 'utf8').trim();
  const binaryMajor = /^\d+/.exec(version)?.[0];
  if (binaryMajor !== undefined && clusterMajor !== binaryMajor) {
    throw new PostgresServerError(
      'PCLUSTER_PG_BINARIES_NOT_RUNNABLE',
      `${dataDir} holds a PostgreSQL ${clusterMajor} cluster but ${binDir} is PostgreSQL ${binaryMajor}; set PCLUSTER_PG_BINDIR to a PostgreSQL ${clusterMajor} bin directory or use another data directory`,
    );
  }
}

/**
 * Starts a PostgreSQL server of our own: finds the binaries, creates the cluster unless the
 * data directory holds one, then starts it and waits until a password login succeeds.
 */
export async function startPostgres(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  checkOptions(options);
  const { binDir } = await findPostgresBinaries();
  const isTemporary = options.dataDir === undefined;
  const dataDir = isTemporary ? mkdtempSync(path.join(os.tmpdir(), 'pcluster-pg-')) : path.resolve(options.dataDir!);
  try {
    const hasCluster = existsSync(path.join(dataDir, 'PG_VERSION'));
    const osUser = serverOsUser(hasCluster ? dataDir : undefined);
    const version = await readServerVersion(binDir, osUser);
    const user = options.user ?? 'pcluster';
    const log = new ServerLog(options.log);
    let password: string;
    if (hasCluster) {
      checkClusterVersion(dataDir, binDir, version);
      password = options.password ?? readClusterPassword(dataDir);
    } else {
      password = options.password ?? randomPassword();
      await initCluster({ binDir, dataDir, user, password, osUser, log });
      if (!isTemporary) writeClusterPassword(dataDir, password, osUser);
    }
    const server = new OwnedPostgresServer({
      port: options.port ?? (await freePort()),
      user,
      password,
      database: options.database ?? 'pcluster',
      binDir,
      dataDir,
      version,
      isTemporary,
      osUser,
      maxConnections: options.maxConnections ?? 100,
      settings: options.settings ?? {},
      startTimeoutMs: options.startTimeoutMs ?? 30_000,
      ownProcessGroup: options.ownProcessGroup ?? false,
      log,
    });
    try {
      await server.start();
    } catch (error) {
      await server.destroy();
      throw error;
    }
    return server;
  } catch (error) {
    if (isTemporary) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
