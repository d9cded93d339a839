import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from 'pcluster/postgres';
import { appPath, childContender, withApplicationName, type RunningContender } from './contender.js';
import { killAll, processTree } from './process-tree.js';

/**
 * Starts one of the hand-written node:cluster contenders (`apps/<file>`) with `workers`
 * workers (and `env` added to its environment) and resolves once its primary prints "ready" (every worker listens).
 */
export async function startNodeClusterApp(
  file: string,
  databaseUrl: string,
  workers: number,
  { env = {}, timeoutMs = 30_000 }: { env?: Readonly<Record<string, string>>; timeoutMs?: number } = {},
): Promise<RunningContender> {
  const port = await freePort();
  const applicationName = `bench_${path.basename(file, '.mjs')}_${port}`;
  const child = spawn(process.execPath, [appPath(file)], {
    env: { ...process.env, ...env, PORT: String(port), DATABASE_URL: withApplicationName(databaseUrl, applicationName), WORKERS: String(workers) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`${file} did not print "ready" within ${timeoutMs}ms`)), timeoutMs);
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        if (/^ready$/m.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${file} exited (${signal ?? code}) before it was ready`));
      });
    });
  } catch (error) {
    killAll(await processTree(child.pid!));
    throw error;
  }
  child.stdout!.resume();
  return childContender(child, port, applicationName);
}
