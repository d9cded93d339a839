import { checkServerCapacity, type ServerCapacity } from './check-server-capacity.js';
import { refuseIfRunning } from './control-server.js';
import { embeddedAnnouncement } from './embedded-announcement.js';
import { Primary, WORKER_MAIN } from './primary.js';
import { register } from './cluster-registry.js';
import { tellParentReady } from './daemon.js';
import { removePidFile, writePidFile } from './pid-file.js';
import { startPostgres, type PostgresServer } from './postgres/index.js';
import type { StartOptions } from './start-options.js';
import { resolveWorkerIdentity } from './worker-identity.js';

/** Runs `pcluster start` with resolved options: the --pid file, the optional embedded PostgreSQL, then the primary. Resolves with the exit status. */
export async function runStart(given: StartOptions): Promise<number> {
  // Named from the first moment: a second start's --pid check (and ps) must know this process while its database still starts.
  process.title = `pcluster primary ${given.name}`;
  const runAs = resolveWorkerIdentity(given, WORKER_MAIN);
  const options = runAs === undefined ? given : { ...given, runAs };
  // A second instance is refused before it boots anything (an embedded PostgreSQL takes seconds).
  await refuseIfRunning(options.controlSocket);
  const { pidFile } = options;
  if (pidFile === undefined) return runCluster(options);
  writePidFile(pidFile);
  try {
    return await runCluster(options);
  } finally {
    removePidFile(pidFile);
  }
}

/** Lists the cluster in the per-user registry for `pcluster ls` (a failure only costs the listing); returns the deregistration. */
function registerCluster(options: StartOptions, primary: Primary): () => void {
  try {
    const { name, appPath: app, controlSocket, workers } = options;
    return register({ name, pid: process.pid, cwd: process.cwd(), app, controlSocket, logFile: options.logFile ?? null, workers, startedAt: new Date().toISOString() });
  } catch (error) {
    primary.log.warn({ err: error }, 'not listed in the cluster registry: pcluster ls will not show this cluster');
    return () => {};
  }
}

async function runCluster(options: StartOptions): Promise<number> {
  let embedded: PostgresServer | undefined;
  let connectionString = options.databaseUrl;
  if (options.embeddedPostgres !== undefined) {
    // Its own process group: Ctrl-C must not stop the database under workers that are still draining.
    const where = options.embeddedPostgres === null ? {} : { dataDir: options.embeddedPostgres };
    embedded = await startPostgres({ ...where, ownProcessGroup: true });
    connectionString = embedded.connectionString;
  }
  let capacity: ServerCapacity | undefined;
  try {
    // Told nothing about the database, the primary cannot know the server: the workers take it from the app's own Pool config.
    // Behind a pooler, the server's max_connections bounds the pooler's connections, not pcluster's.
    if (options.isDatabaseConfigured && options.pooler === 'none') {
      const budget = { maxConnections: options.maxConnections, isExplicit: options.isMaxConnectionsExplicit, workers: options.workers };
      capacity = await checkServerCapacity(connectionString, budget, `${options.appName}:primary`);
    }
  } catch (error) {
    await embedded?.destroy();
    throw error;
  }
  const database = { connectionString, applicationName: options.appName, session: options.session, isConfigured: options.isDatabaseConfigured };
  const primary = new Primary(options, database, capacity);
  if (embedded !== undefined) {
    const { fields, message } = embeddedAnnouncement(embedded);
    primary.log.info(fields, message);
  }
  let deregister = (): void => {};
  void primary.listening.then(() => (deregister = registerCluster(options, primary)));
  if (options.daemon) void primary.ready.then(tellParentReady);
  try {
    return await primary.run();
  } finally {
    deregister();
    if (embedded !== undefined) {
      if (options.embeddedPostgres === null) await embedded.destroy();
      else await embedded.stop();
    }
  }
}
