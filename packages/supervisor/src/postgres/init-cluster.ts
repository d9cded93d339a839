import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PostgresServerError } from './postgres-server-error.js';
import { privateTempDir } from './private-temp-dir.js';
import type { ServerLog } from './server-log.js';
import { giveTo, runAs, type ServerOsUser } from './server-os-user.js';

export interface InitClusterOptions {
  readonly binDir: string;
  readonly dataDir: string;
  readonly user: string;
  readonly password: string;
  readonly osUser: ServerOsUser | undefined;
  readonly log: ServerLog;
}

const execFileAsync = promisify(execFile);

/** initdb's own error line(s) rather than its advice ("If you want to create a new database system..."). */
function initdbReason(error: unknown): string {
  const stderr = String((error as { stderr?: string }).stderr ?? '');
  const errors = stderr.split('\n').filter((line) => /^initdb: (error|fatal):/.test(line));
  const reason = errors.length > 0 ? errors.join(' ') : stderr.trim().split('\n').at(-1);
  return reason || (error as Error).message.split('\n')[0]!;
}

/**
 * Creates a cluster in `dataDir` (missing or empty) whose superuser `user` logs in with
 * `password` (scram-sha-256 over TCP and the socket alike), as `osUser`.
 */
export async function initCluster(options: InitClusterOptions): Promise<void> {
  const { binDir, dataDir, user, password, osUser, log } = options;
  // The password reaches initdb in a file (never argv), in a private directory that is gone afterwards.
  const passwordDir = privateTempDir('pcluster-pg-initdb-', osUser);
  const passwordFile = path.join(passwordDir, 'password');
  try {
    mkdirSync(dataDir, { recursive: true });
    chmodSync(dataDir, 0o700);
    giveTo(dataDir, osUser);
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    giveTo(passwordFile, osUser);
    const args = [
      '-D', dataDir, '-U', user, `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256', '--auth-local=scram-sha-256', '-E', 'UTF8', '--no-instructions',
      // The host's LANG may name a locale that is not installed; C also sorts the same everywhere.
      '--locale=C',
    ];
    const { stdout, stderr } = await execFileAsync(path.join(binDir, 'initdb'), args, { ...runAs(osUser), cwd: os.tmpdir(), timeout: 120_000 });
    for (const line of `${stdout}${stderr}`.split('\n')) if (line !== '') log.write(line);
  } catch (error) {
    const who = osUser === undefined ? 'this user' : `the OS user "${osUser.name}" (so not under /root)`;
    throw new PostgresServerError(
      'PCLUSTER_PG_INITDB_FAILED',
      `initdb failed in ${dataDir} (${initdbReason(error)}); the data directory must be missing or empty, and writable by ${who}`,
    );
  } finally {
    rmSync(passwordDir, { recursive: true, force: true });
  }
}
