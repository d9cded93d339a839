import bytes from 'bytes';
import type { ReloadReport } from './reload-progress.js';
import type { StatusReport } from './status-report.js';

/** A duration as `pm2 ls` shows it: 42s, 5m, 3h, 2d. */
export function uptime(seconds: number): string {
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/** A reload under way or failed, as a header line; nothing once it is done. */
function reloadLine(reload: ReloadReport | null): string[] {
  if (reload === null || reload.state === 'done') return [];
  const { generation, booted, workers, failed, lastError } = reload;
  const failures = failed === 0 ? '' : `, ${failed} failed to boot (last: ${lastError})`;
  const outcome = reload.state === 'failed' ? 'FAILED; the older workers keep serving and the new ones are retried with a growing delay' : 'in progress';
  return [`reload to generation ${generation}: ${booted}/${workers} workers at generation ${generation}${failures}; ${outcome}`];
}

/** `pcluster status` as a table, like `pm2 ls`. */
export function renderStatusTable(report: StatusReport): string {
  const header = ['slot', 'pid', 'state', 'gen', 'uptime', 'requests', 'memory', 'db', 'backend', 'restarts', 'last restart'];
  const rows = report.workers.map((w) => [
    String(w.slot), String(w.pid ?? '-'), w.state, String(w.generation), uptime(w.uptimeSeconds), String(w.requests),
    bytes.format(w.rssBytes, { unitSeparator: ' ' }) ?? '-', w.db.detail ?? w.db.state, String(w.db.backendPid ?? '-'), String(w.restarts), w.lastRestartReason ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const { held, maxConnections, server } = report.budget;
  // The server's own count differs when the app opens connections of its own (--pg-compat off, a second database).
  const onServer = server === null || server === held ? '' : ` (PostgreSQL shows ${server})`;
  // Serving is what the rows show as ready with an open connection: a ready worker whose connection is broken answers 503.
  const serving = report.workers.filter((w) => w.state === 'ready' && w.db.state === 'open').length;
  return [
    `${report.name} (primary pid ${report.pid}): ${report.workers.length} workers, ${serving} serving (ready, database open), connection budget ${held}/${maxConnections}${onServer}`,
    ...reloadLine(report.reload),
    line(header),
    ...rows.map(line),
  ].join('\n');
}
