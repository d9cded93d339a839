import type { Contender, Workload } from './contenders.js';
import { pairedRatio, type Measurement, type Summary } from './summary.js';
import type { SupervisorTimings } from './supervisor-timings.js';
import { PCLUSTER, type TargetCheck } from './targets.js';

/** A table both renderers understand: the terminal's padded columns and Markdown. */
export interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

const mb = (bytes: number): string => `${Math.round(bytes / 1_048_576)}`;
const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(value < 10 ? 2 : 1) : '–');
const rate = (value: number): string => value.toFixed(0);
const micros = (value: number): string => (Number.isFinite(value) ? value.toFixed(0) : '–');
export const times = (ratio: number): string => (Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '–');

export function renderText(table: Table): string {
  const widths = table.header.map((cell, i) => Math.max(cell.length, ...table.rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(table.header), widths.map((w) => '-'.repeat(w)).join('  '), ...table.rows.map(line)].join('\n');
}

export function renderMarkdown(table: Table): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(table.header), line(table.header.map((_, i) => (i === 0 ? '---' : '---:'))), ...table.rows.map(line)].join('\n');
}

/** Per contender and workload: median req/s (range over rounds), median p50/p99, max connections, peak RSS, median CPU per request, failures. */
export function resultsTable(summaries: readonly Summary[]): Table {
  return {
    header: ['contender', 'route', 'req/s (median)', 'range', 'p50 ms', 'p99 ms', 'max conns', 'peak RSS MB', 'CPU µs/req app', 'CPU µs/req PostgreSQL', 'failures'],
    rows: summaries.map((s) => [
      s.label, `/${s.workload}`, rate(s.rps), `${rate(s.rpsMin)}–${rate(s.rpsMax)}`, ms(s.p50Ms), ms(s.p99Ms),
      String(s.maxConnections), mb(s.peakRssBytes), micros(s.appCpuUsPerRequest), micros(s.dbCpuUsPerRequest), String(s.failures),
    ]),
  };
}

/**
 * One row per contender for a reader: median req/s on each route, latencies, connections, RSS and CPU per request
 * on the first route, and the failures on all of them.
 */
export function overviewTable(summaries: readonly Summary[], contenders: readonly Pick<Contender, 'id' | 'label'>[], workloads: readonly Workload[]): Table {
  const [first] = workloads;
  const shown = contenders.filter((c) => summaries.some((s) => s.contender === c.id));
  return {
    header: [
      'contender', ...workloads.map((w) => `/${w} req/s`), `/${first} p50 ms`, `/${first} p99 ms`, 'max conns', 'peak RSS MB',
      `CPU µs per /${first}: app + PostgreSQL`, 'failures',
    ],
    rows: shown.map((c) => {
      const own = summaries.filter((s) => s.contender === c.id);
      const on = own.find((s) => s.workload === first);
      return [
        c.label, ...workloads.map((w) => {
          const s = own.find((summary) => summary.workload === w);
          return s === undefined ? '–' : rate(s.rps);
        }),
        on === undefined ? '–' : ms(on.p50Ms), on === undefined ? '–' : ms(on.p99Ms),
        String(Math.max(...own.map((s) => s.maxConnections))), mb(Math.max(...own.map((s) => s.peakRssBytes))),
        on === undefined ? '–' : `${micros(on.appCpuUsPerRequest)} + ${micros(on.dbCpuUsPerRequest)}`,
        String(own.reduce((sum, s) => sum + s.failures, 0)),
      ];
    }),
  };
}

/** pcluster (default flags) ÷ each other contender measured, req/s per route (pgbench: /page only), paired round by round. */
export function ratioTable(measurements: readonly Measurement[], contenders: readonly Pick<Contender, 'id' | 'label'>[], workloads: readonly Workload[]): Table {
  const others = contenders.filter((c) => c.id !== PCLUSTER && measurements.some((m) => m.contender === c.id));
  return {
    header: ['pcluster ÷', ...workloads.map((w) => `/${w}`)],
    rows: others.map((other) => [other.label, ...workloads.map((w) => times(pairedRatio(measurements, PCLUSTER, other.id, w)))]),
  };
}

/**
 * Each issue target: the ratio (median of the per-round ratios), the range of the per-round ratios and in how many
 * rounds the ratio alone reached the target (a split there is the machine's noise at work), and the verdict.
 */
export function targetsTable(checks: readonly TargetCheck[], contenders: readonly Pick<Contender, 'id' | 'label'>[]): Table {
  const label = (id: string): string => contenders.find((c) => c.id === id)?.label ?? id;
  return {
    header: ['pcluster ÷', 'route', 'target', 'measured', 'per round', 'verdict'],
    rows: checks.map((check) => {
      let measured = times(check.ratio);
      if (check.connections !== undefined && check.p99Ms !== undefined) {
        measured += `; conns ${check.connections.pcluster} vs ${check.connections.against}; p99 ${ms(check.p99Ms.pcluster)} vs ${ms(check.p99Ms.against)} ms`;
      }
      const { min, max } = check.roundRange;
      let perRound = check.rounds === 0 ? '–' : min === max ? times(min) : `${times(min)}–${times(max)}`;
      if (check.minRatio !== undefined && check.rounds > 0) perRound += `, ≥ ${check.minRatio}× in ${check.roundsMet} of ${check.rounds}`;
      const verdict = check.isMet === undefined ? 'reported' : check.isMet ? 'met' : 'MISSED';
      return [label(check.against), `/${check.workload}`, check.target, measured, perRound, verdict];
    }),
  };
}

export function supervisorTable(pcluster: SupervisorTimings | undefined, pm2: SupervisorTimings | undefined): Table {
  const cell = (timings: SupervisorTimings | undefined, pick: (t: SupervisorTimings) => string): string => (timings === undefined ? '–' : pick(timings));
  const workers = pcluster?.workers ?? pm2?.workers ?? 0;
  return {
    header: [`${workers} workers, idle`, 'pcluster', 'PM2'],
    rows: [
      ['start → all workers ready (ms)', cell(pcluster, (t) => `${rate(t.startMs)} (pcluster start)`), cell(pm2, (t) => `${rate(t.startMs)} (pm2 start; + ${rate(t.daemonLaunchMs ?? 0)} daemon launch before)`)],
      ['rolling reload of all workers (ms)', cell(pcluster, (t) => `${rate(t.reloadMs)} (kill -HUP)`), cell(pm2, (t) => `${rate(t.reloadMs)} (pm2 reload; CLI round trip ${rate(t.cliRoundTripMs ?? 0)})`)],
      ['primary / daemon RSS MB (after start → after reload)', cell(pcluster, (t) => `${mb(t.primaryRssBytes)} → ${mb(t.primaryRssAfterReloadBytes)}`), cell(pm2, (t) => `${mb(t.primaryRssBytes)} → ${mb(t.primaryRssAfterReloadBytes)}`)],
      ['whole tree RSS MB after start', cell(pcluster, (t) => mb(t.treeRssBytes)), cell(pm2, (t) => mb(t.treeRssBytes))],
    ],
  };
}
