import { appError } from './ipc.js';
import type { SerializedError, WorkerConfig } from './protocol.js';

/** What to do about a listen error the user can fix, by its errno. */
const FIXES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is already in use; stop what listens there or choose another --port',
  EACCES: 'permission denied; ports below 1024 need privileges: choose a --port of 1024 or more',
  EADDRNOTAVAIL: 'the address is not one of this host\'s; choose another --host',
};

/**
 * A worker's server that could not listen, as the one line the user reads at start (SPEC §1: exit 3): the port and
 * where it came from, the errno and the fix; no stack for the errors above, which are the user's to fix, not the app's.
 */
export function listenFailure(error: unknown, config: Pick<WorkerConfig, 'host' | 'port' | 'isPortExplicit' | 'bindPath'>): SerializedError {
  if (config.bindPath !== undefined) return socketFailure(error, config.bindPath);
  const { code, address, port: errorPort } = (error ?? {}) as { code?: unknown; address?: unknown; port?: unknown };
  const host = typeof address === 'string' ? address : config.host;
  const port = typeof errorPort === 'number' && errorPort > 0 ? errorPort : config.port;
  const fix = typeof code === 'string' ? FIXES[code] : undefined;
  if (fix === undefined) return appError('PCLUSTER_LISTEN', `cannot listen on ${host}:${port}: `, error);
  const origin = config.isPortExplicit || port === config.port ? `--port ${port}` : `port ${port}, which the app asked for`;
  return { code: 'PCLUSTER_LISTEN', message: `cannot listen on ${host}:${port} (${origin}): ${fix} (${String(code)})` };
}

/** --bind unix:<path> that could not listen: something listens there already (pcluster removed a stale socket), or the directory is not writable. */
function socketFailure(error: unknown, socketPath: string): SerializedError {
  const code = (error as { code?: unknown } | null)?.code;
  const fix =
    code === 'EADDRINUSE' ? 'another process listens there (or a file is in the way); stop it or choose another path'
    : code === 'EACCES' ? 'permission denied; choose a directory the primary can write'
    : code === 'ENOENT' ? 'the directory does not exist; create it or choose another path'
    : undefined;
  if (fix === undefined) return appError('PCLUSTER_LISTEN', `cannot listen on unix:${socketPath} (--bind): `, error);
  return { code: 'PCLUSTER_LISTEN', message: `cannot listen on unix:${socketPath} (--bind): ${fix} (${String(code)})` };
}
