import { chmodSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { giveTo, type ServerOsUser } from './server-os-user.js';

/** A new directory under os.tmpdir() (never under /root) that only `osUser` (or we) can enter. */
export function privateTempDir(prefix: string, osUser: ServerOsUser | undefined): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, 0o700);
  giveTo(dir, osUser);
  return dir;
}
