import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PostgresServerError } from './postgres-server-error.js';
import { giveTo, type ServerOsUser } from './server-os-user.js';

/** The file beside a persistent cluster's data that holds its superuser password (mode 0600). */
export const PASSWORD_FILE = '.pcluster-password';

/** A fresh password: 24 random bytes, URL-safe so it needs no escaping in a connection string. */
export function randomPassword(): string {
  return randomBytes(24).toString('base64url');
}

/** The password pcluster saved when it created the cluster in `dataDir`. */
export function readClusterPassword(dataDir: string): string {
  const file = path.join(dataDir, PASSWORD_FILE);
  if (!existsSync(file)) {
    throw new PostgresServerError(
      'PCLUSTER_PG_NO_PASSWORD',
      `${dataDir} holds a PostgreSQL cluster but no ${PASSWORD_FILE}; pass its superuser password (the password option), or write it to ${file} with mode 0600`,
    );
  }
  return readFileSync(file, 'utf8').split('\n')[0]!;
}

/** Saves the password of the cluster just created in `dataDir`, readable by its owner only. */
export function writeClusterPassword(dataDir: string, password: string, osUser: ServerOsUser | undefined): void {
  const file = path.join(dataDir, PASSWORD_FILE);
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  giveTo(file, osUser);
}
