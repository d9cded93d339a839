import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = path.join(REPO_ROOT, 'packages/supervisor/dist/cli.js');
export const fixture = (name: string): string => path.join(REPO_ROOT, 'test/fixtures', name);

export interface ExitResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface LogLine {
  readonly msg?: string;
  readonly level?: number;
  readonly [key: string]: unknown;
}

/** A `pcluster` process started by a test, with its output captured. */
export class ClusterProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly metricsPort: number;
  readonly name: string;
  readonly exited: Promise<ExitResult>;
  stdout = '';
  stderr = '';

  constructor(child: ChildProcess, port: number, metricsPort: number, name: string) {
    this.child = child;
    this.port = port;
    this.metricsPort = metricsPort;
    this.name = name;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** The primary's pid. */
  get pid(): number {
    return this.child.pid!;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}`;
  }

  get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The JSON log lines printed so far. */
  logs(): LogLine[] {
    return this.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as LogLine];
        } catch {
          return [];
        }
      });
  }

  /** Resolves when a log line matching `predicate` appears; rejects if the process exits first or on timeout. */
  async waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs().find(predicate);
      if (found !== undefined) return found;
      if (!this.isRunning) throw new Error(`pcluster exited before the expected log line.\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for a log line.\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Sends `signal` and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 60_000): Promise<ExitResult> {
    if (this.isRunning) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The exit status, or null if it is still running after `ms` (the root hook kills it then). */
  async exitCodeWithin(ms: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<{ code: null }>((resolve) => (timer = setTimeout(() => resolve({ code: null }), ms)));
    try {
      return (await Promise.race([this.exited, timeout])).code;
    } finally {
      clearTimeout(timer);
    }
  }
}

const running = new Set<ClusterProcess>();
/** Every cluster started since the last cleanup, running or not: a primary killed with SIGKILL leaves its control socket behind. */
const started: ClusterProcess[] = [];

export interface SpawnOptions {
  readonly workers?: number;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly name?: string;
  readonly databaseUrl?: string | null;
  /** null: no --port at all (an app that listens itself keeps the port it asks for). */
  readonly port?: number | null;
  readonly metricsPort?: number;
  /** Run in a process group of its own, so a test can signal the whole group as a terminal's Ctrl-C does. */
  readonly ownProcessGroup?: boolean;
  /** `--log-format` (default json, which waitForLog and startCluster read). */
  readonly logFormat?: 'pretty' | 'json';
  /** A command that execs the rest in place (same pid), e.g. `ip netns exec <ns>`: pcluster runs under it. */
  readonly prefix?: readonly string[];
}

let sequence = 0;

/** Starts `pcluster start <app>` on free ports with JSON logs; does not wait for readiness. */
export async function spawnCluster(app: string, options: SpawnOptions = {}): Promise<ClusterProcess> {
  const [port, metricsPort] = [options.port === null ? 0 : options.port ?? (await freePort()), options.metricsPort ?? (await freePort())];
  const name = options.name ?? `t${process.pid}-${++sequence}`;
  const databaseUrl = options.databaseUrl === undefined ? process.env['PCLUSTER_TEST_DATABASE_URL'] : options.databaseUrl;
  const args = [
    CLI, 'start', app,
    '--workers', String(options.workers ?? 2),
    ...(options.port === null ? [] : ['--port', String(port)]),
    '--metrics-port', String(metricsPort),
    '--name', name,
    '--log-format', options.logFormat ?? 'json',
    '--graceful-timeout', '10s',
    ...(databaseUrl === null || databaseUrl === undefined ? [] : ['--database-url', databaseUrl]),
    ...(options.args ?? []),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env['DATABASE_URL'];
  const [command, ...prefixArgs] = [...(options.prefix ?? []), process.execPath];
  const child = spawn(command!, [...prefixArgs, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: options.ownProcessGroup === true });
  const cluster = new ClusterProcess(child, port, metricsPort, name);
  running.add(cluster);
  started.push(cluster);
  void cluster.exited.then(() => running.delete(cluster));
  return cluster;
}

/** Starts a cluster and waits until every worker is ready (once more on new ports if a random port was taken meanwhile). */
export async function startCluster(app: string, options: SpawnOptions = {}): Promise<ClusterProcess> {
  for (let attempt = 1; ; attempt++) {
    const cluster = await spawnCluster(app, options);
    try {
      await cluster.waitForLog((line) => typeof line.msg === 'string' && line.msg.startsWith('all ') && line.msg.includes('workers ready'));
      return cluster;
    } catch (error) {
      if (attempt >= 3 || !/EADDRINUSE/.test(cluster.stderr)) throw error;
    }
  }
}

/** Kills every cluster a test left running (root afterEach hook), so no test leaks processes or control sockets. */
export async function killAllClusters(): Promise<void> {
  await Promise.all([...running].map((cluster) => cluster.stop('SIGKILL', 10_000)));
  for (const cluster of started.splice(0)) rmSync(path.join(REPO_ROOT, '.pcluster', `${cluster.name}.sock`), { force: true });
}
