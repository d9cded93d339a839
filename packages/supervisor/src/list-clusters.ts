import { readEntries, registryDir, removeEntry, type RegistryEntry } from './cluster-registry.js';
import { sendControlRequest } from './control-client.js';
import { probeControlSocket } from './live-control-sockets.js';
import { isAlive } from './pid-file.js';
import { uptime } from './status-table.js';

const STATUS_TIMEOUT_MS = 5_000;

/** A registered cluster with what its primary answered now; null where it did not answer in time. */
export interface ListedCluster extends RegistryEntry {
  readonly uptimeSeconds: number;
  readonly workersReady: number | null;
  readonly workersTotal: number | null;
}

/** Asks a registered primary for its workers; undefined means the entry is dead (no such process, or its socket refuses or answers for another pid). */
async function probe(entry: RegistryEntry): Promise<{ ready: number | null; total: number | null } | undefined> {
  if (!isAlive(entry.pid) || (await probeControlSocket(entry.controlSocket)) !== 'live') return undefined;
  try {
    const response = await sendControlRequest(entry.controlSocket, { command: 'status' }, STATUS_TIMEOUT_MS);
    if (!response.ok || response.status === undefined) return { ready: null, total: null };
    if (response.status.pid !== entry.pid) return undefined;
    const workers = response.status.workers.filter((w) => w.state !== 'draining' && w.state !== 'exited');
    return { ready: workers.filter((w) => w.state === 'ready').length, total: workers.length };
  } catch {
    return { ready: null, total: null }; // alive but busy: listed, with its workers unknown
  }
}

/** Every cluster running on this host for this user, oldest first; entries of dead primaries are removed on the way. */
export async function listClusters(now = Date.now()): Promise<ListedCluster[]> {
  const listed = await Promise.all(
    readEntries().map(async ({ file, entry }) => {
      const answer = await probe(entry);
      if (answer === undefined) {
        removeEntry(file);
        return [];
      }
      const uptimeSeconds = Math.max(0, Math.round((now - Date.parse(entry.startedAt)) / 1000));
      return [{ ...entry, uptimeSeconds, workersReady: answer.ready, workersTotal: answer.total }];
    }),
  );
  return listed.flat().sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.pid - b.pid);
}

/** `pcluster ls` as a table, like `pm2 ls`: name, pid, workers ready/total, uptime, directory, log file. */
export function renderClusterTable(clusters: readonly ListedCluster[]): string {
  const header = ['name', 'pid', 'workers', 'uptime', 'cwd', 'log'];
  const rows = clusters.map((c) => [
    c.name, String(c.pid), c.workersReady === null ? '?' : `${c.workersReady}/${c.workersTotal}`, uptime(c.uptimeSeconds), c.cwd, c.logFile ?? 'stdout',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((cells) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** Runs `pcluster ls [--json]`; returns the exit status. */
export async function runList(asJson: boolean): Promise<number> {
  const clusters = await listClusters();
  if (asJson) process.stdout.write(`${JSON.stringify(clusters, null, 2)}\n`);
  else if (clusters.length === 0) process.stdout.write(`no pcluster is running for this user (registry ${registryDir()})\n`);
  else process.stdout.write(`${renderClusterTable(clusters)}\n`);
  return 0;
}
