import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import os from 'node:os';

export interface ServerUser {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
}

function lookup(name: string): ServerUser | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
    const gid = Number(execFileSync('id', ['-g', name], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
    return { uid, gid, name };
  } catch {
    return undefined;
  }
}

/**
 * The OS user the server must run as: undefined when we are not root (run as ourselves).
 * PostgreSQL refuses to run as root, so as root use `postgres`, or create the system user
 * `pcluster-pg` (this changes the host, once).
 */
export function serverUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const existing = lookup('postgres') ?? lookup('pcluster-pg');
  if (existing !== undefined) return existing;
  try {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'pcluster-pg'], { stdio: 'ignore' });
  } catch (error) {
    throw new Error(`running as root, PostgreSQL needs an unprivileged OS user and creating "pcluster-pg" failed (${(error as Error).message}); create one with useradd`);
  }
  return lookup('pcluster-pg')!;
}

/** Fails with one line when `user` cannot execute the binaries (e.g. embedded ones inside /root). */
export function assertExecutableBy(user: ServerUser | undefined, binary: string): void {
  if (user === undefined) {
    accessSync(binary, constants.X_OK);
    return;
  }
  try {
    execFileSync(binary, ['--version'], { uid: user.uid, gid: user.gid, stdio: 'ignore', cwd: os.tmpdir() });
  } catch {
    throw new Error(`the PostgreSQL binary ${binary} cannot be run by the OS user "${user.name}"; install the project outside /root or make its path readable`);
  }
}
