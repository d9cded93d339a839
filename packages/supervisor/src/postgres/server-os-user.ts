import { execFileSync } from 'node:child_process';
import { chownSync, statSync } from 'node:fs';
import { PostgresServerError } from './postgres-server-error.js';

/** The unprivileged OS user that runs initdb and postgres when this process is root. */
export interface ServerOsUser {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
}

const CREATED_USER = 'pcluster-pg';

function id(args: string[]): string | undefined {
  try {
    return execFileSync('id', args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return undefined;
  }
}

function lookUp(name: string): ServerOsUser | undefined {
  const uid = id(['-u', name]);
  const gid = id(['-g', name]);
  return uid === undefined || gid === undefined ? undefined : { uid: Number(uid), gid: Number(gid), name };
}

/**
 * Who runs initdb and postgres: undefined (this process's own user) unless this process is
 * root, which PostgreSQL refuses. As root: the owner of `existingDataDir` when that is not root,
 * else the `postgres` OS user, else a system user `pcluster-pg`, created with useradd (this
 * changes the host, once).
 */
export function serverOsUser(existingDataDir?: string): ServerOsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  if (existingDataDir !== undefined) {
    const { uid, gid } = statSync(existingDataDir);
    if (uid !== 0) return { uid, gid, name: id(['-nu', String(uid)]) ?? `uid ${uid}` };
  }
  const existing = lookUp('postgres') ?? lookUp(CREATED_USER);
  if (existing !== undefined) return existing;
  try {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', CREATED_USER], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const reason = String((error as { stderr?: Buffer }).stderr ?? '').trim() || (error as Error).message;
    throw new PostgresServerError(
      'PCLUSTER_PG_NO_OS_USER',
      `PostgreSQL refuses to run as root and there is no "postgres" OS user; creating "${CREATED_USER}" with useradd failed (${reason.split('\n')[0]}): create an unprivileged "postgres" user or run as a non-root user`,
    );
  }
  const created = lookUp(CREATED_USER);
  if (created === undefined) throw new PostgresServerError('PCLUSTER_PG_NO_OS_USER', `useradd ${CREATED_USER} succeeded but "id ${CREATED_USER}" does not find it; create an unprivileged "postgres" user`);
  return created;
}

/** spawn()'s identity options for running as `user` (none: as ourselves). */
export function runAs(user: ServerOsUser | undefined): { uid?: number; gid?: number } {
  return user === undefined ? {} : { uid: user.uid, gid: user.gid };
}

/** Hands `file` to `user`, so a server running as that user can use it. */
export function giveTo(file: string, user: ServerOsUser | undefined): void {
  if (user !== undefined) chownSync(file, user.uid, user.gid);
}
