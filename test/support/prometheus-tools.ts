import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function which(command: string): Promise<string | undefined> {
  try {
    return (await run('sh', ['-c', `command -v ${command}`])).stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * promtool and prometheus from Debian's `prometheus` package: found on PATH, or installed
 * now when this process may (root with apt-get). Otherwise the reason they are missing.
 */
export async function prometheusTools(): Promise<{ promtool: string; prometheus: string } | { missing: string }> {
  let [promtool, prometheus] = [await which('promtool'), await which('prometheus')];
  if (promtool === undefined || prometheus === undefined) {
    if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
      return { missing: 'promtool/prometheus are not installed and this run cannot install them (needs root and apt-get): apt-get install prometheus' };
    }
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      await run('apt-get', ['update', '-qq'], { env, timeout: 300_000 });
      await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'prometheus'], { env, timeout: 600_000, maxBuffer: 1 << 24 });
    } catch (error) {
      return { missing: `installing Debian's prometheus package failed: ${(error as Error).message.split('\n')[0]}` };
    }
    [promtool, prometheus] = [await which('promtool'), await which('prometheus')];
    if (promtool === undefined || prometheus === undefined) return { missing: 'the prometheus package installed no promtool/prometheus binaries' };
  }
  return { promtool, prometheus };
}
