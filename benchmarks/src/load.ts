import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import autocannon from 'autocannon';

export interface LoadResult {
  readonly tool: 'wrk' | 'autocannon';
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  /** Socket errors, timeouts and non-2xx responses. */
  readonly failures: number;
}

export interface LoadOptions {
  readonly connections: number;
  readonly durationSeconds: number;
}

let wrkVersionSeen: Promise<string | undefined> | undefined;

/** "wrk 4.1.0" / "wrk debian/4.1.0-3+b2" when wrk is installed (it prints its version and exits 1), else undefined. */
export function wrkVersion(): Promise<string | undefined> {
  wrkVersionSeen ??= promisify(execFile)('wrk', ['--version']).then(
    ({ stdout }) => stdout,
    (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
  ).then((output) => /^wrk \S+/m.exec(output)?.[0]);
  return wrkVersionSeen;
}

async function hasWrk(): Promise<boolean> {
  return (await wrkVersion()) !== undefined;
}

/** "1.23ms" / "850.00us" / "1.02s" → milliseconds. */
function wrkDuration(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (match === null) return NaN;
  const value = Number(match[1]);
  return { us: value / 1000, ms: value, s: value * 1000, m: value * 60_000 }[match[2] as 'us' | 'ms' | 's' | 'm'];
}

/** wrk's `--latency` report → a LoadResult (socket errors and non-2xx responses count as failures). */
export function parseWrkOutput(stdout: string): LoadResult {
  const number = (pattern: RegExp): number => Number(pattern.exec(stdout)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const socketFailures = socketErrors === null ? 0 : socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0);
  return {
    tool: 'wrk',
    requestsPerSecond: number(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: wrkDuration(/\s50%\s+(\S+)/.exec(stdout)?.[1] ?? ''),
    p99Ms: wrkDuration(/\s99%\s+(\S+)/.exec(stdout)?.[1] ?? ''),
    requests: number(/(\d+) requests in/),
    failures: socketFailures + number(/Non-2xx or 3xx responses: (\d+)/),
  };
}

async function runWrk(url: string, options: LoadOptions): Promise<LoadResult> {
  const { stdout } = await promisify(execFile)('wrk', ['-t2', `-c${options.connections}`, `-d${options.durationSeconds}s`, '--latency', url], {
    maxBuffer: 1 << 20,
  });
  return parseWrkOutput(stdout);
}

async function runAutocannon(url: string, options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({ url, connections: options.connections, duration: options.durationSeconds, pipelining: 1 });
  return {
    tool: 'autocannon',
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    failures: result.errors + result.timeouts + result.non2xx,
  };
}

/** Keep-alive load at fixed concurrency: wrk when installed (lighter on a 2-core machine), autocannon otherwise. */
export async function runLoad(url: string, options: LoadOptions): Promise<LoadResult> {
  return (await hasWrk()) ? runWrk(url, options) : runAutocannon(url, options);
}
