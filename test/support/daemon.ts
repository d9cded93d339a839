import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CLI } from './cluster-process.js';
import { freePort } from './free-port.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `pcluster ...args` in `cwd` to its end; never rejects (the exit status is in the result). */
export function runCli(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Daemon {
  readonly name: string;
  readonly cwd: string;
  readonly port: number;
  readonly pidFile: string;
  readonly start: CliResult;
  /** The detached primary's pid, from its --pid file (undefined when the start failed). */
  readonly pid: number | undefined;
  readonly url: string;
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined; // no pid file: nothing was started, or it has stopped
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `pcluster start --daemon` in a test: a detached primary is no child of the test, so the usual helpers
 * cannot see it. Every daemon started through `startDaemon` is killed after each test (its whole process
 * group, workers included: it is a session leader), even when the test failed.
 */
export function useDaemons(): (app: string, options: { cwd: string; name: string; workers?: number; env?: NodeJS.ProcessEnv; args?: readonly string[] }) => Promise<Daemon> {
  // Pid files, read again at cleanup: a start the test gave up waiting for may have written its pid since.
  const started: string[] = [];
  afterEach(async () => {
    for (const pid of started.splice(0).map(readPid)) {
      if (pid === undefined) continue;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      for (let waited = 0; isAlive(pid) && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  return async (app, { cwd, name, workers = 2, env = {}, args = [] }) => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    const pidFile = path.join(cwd, `${name}.pid`);
    started.push(pidFile);
    const start = await runCli([
      'start', app, '--daemon', '--workers', String(workers), '--port', String(port), '--metrics-port', String(metricsPort), '--name', name,
      '--pid', pidFile, '--graceful-timeout', '10s', '--database-url', process.env['PCLUSTER_TEST_DATABASE_URL']!, ...args,
    ], cwd, env);
    return { name, cwd, port, pidFile, start, pid: readPid(pidFile), url: `http://127.0.0.1:${port}` };
  };
}
