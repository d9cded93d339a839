import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PostgresServerError } from './postgres-server-error.js';
import { runAs, type ServerOsUser } from './server-os-user.js';

const execFileAsync = promisify(execFile);

/**
 * The server version (`15.18 (Debian 15.18-0+deb12u1)`) of the binaries in `binDir`, run as
 * `osUser`; fails with one line when that user cannot run `postgres` or `initdb`.
 */
export async function readServerVersion(binDir: string, osUser: ServerOsUser | undefined): Promise<string> {
  let version = '';
  for (const name of ['postgres', 'initdb']) {
    const binary = path.join(binDir, name);
    try {
      const { stdout } = await execFileAsync(binary, ['--version'], { ...runAs(osUser), cwd: os.tmpdir(), timeout: 10_000 });
      if (name === 'postgres') version = stdout.trim().replace(/^postgres \(PostgreSQL\) /, '');
    } catch (error) {
      const { stderr, code } = error as { stderr?: string; code?: unknown };
      const reason = stderr?.trim().split('\n')[0] || (typeof code === 'string' ? code : (error as Error).message.split('\n')[0]);
      throw new PostgresServerError(
        'PCLUSTER_PG_BINARIES_NOT_RUNNABLE',
        osUser === undefined
          ? `${binary} does not run (${reason}); check its permissions and libraries, or set PCLUSTER_PG_BINDIR to another PostgreSQL bin directory`
          : `${binary} cannot be run by the OS user "${osUser.name}" (${reason}); PostgreSQL refuses to run as root, so the binaries and every directory above them must be readable and executable by that user: ` +
            'move the checkout out of /root, chmod o+rx its parent directories, or use system binaries (apt-get install postgresql, or set PCLUSTER_PG_BINDIR)',
      );
    }
  }
  return version;
}
