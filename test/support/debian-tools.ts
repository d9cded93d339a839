import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `command` on PATH, or in /usr/sbin and /usr/bin (Debian puts daemons in /usr/sbin, off a non-root PATH). */
async function which(command: string): Promise<string | undefined> {
  try {
    const found = (await run('sh', ['-c', `command -v ${command}`])).stdout.trim();
    if (found !== '') return found;
  } catch {
    // not on PATH: look where Debian installs it
  }
  return ['/usr/sbin', '/usr/bin'].map((dir) => path.join(dir, command)).find((file) => existsSync(file));
}

/**
 * The paths of `commands` from Debian's package `pkg`: found installed, or installed now with
 * apt-get when this process may (root with apt-get). Otherwise the reason they are missing.
 */
export async function debianTools<C extends string>(pkg: string, commands: readonly C[]): Promise<Record<C, string> | { missing: string }> {
  const lookUp = async (): Promise<Partial<Record<C, string>>> =>
    Object.fromEntries(await Promise.all(commands.map(async (command) => [command, await which(command)] as const))) as Partial<Record<C, string>>;
  const complete = (found: Partial<Record<C, string>>): found is Record<C, string> => commands.every((command) => found[command] !== undefined);
  let found = await lookUp();
  if (complete(found)) return found;
  const names = commands.join('/');
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    return { missing: `${names} ${commands.length > 1 ? 'are' : 'is'} not installed and this run cannot install ${commands.length > 1 ? 'them' : 'it'} (needs root and apt-get): apt-get install ${pkg}` };
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await run('apt-get', ['update', '-qq'], { env, timeout: 300_000 });
    // Waits for another apt/dpkg (an unattended upgrade, a parallel install) instead of failing at its lock.
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=300', pkg], { env, timeout: 600_000, maxBuffer: 1 << 24 });
  } catch (error) {
    return { missing: `installing Debian's ${pkg} package failed: ${(error as Error).message.split('\n')[0]}` };
  }
  found = await lookUp();
  return complete(found) ? found : { missing: `the ${pkg} package installed no ${names}` };
}
