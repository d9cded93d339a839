import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RunAs } from '@pcluster/worker-runtime/protocol';
import { UsageError } from './options/index.js';

/**
 * Run in a child of the primary with the user, the group and the paths as arguments: resolves the names to ids the
 * way the worker will use them (the user's own group unless a group is given), drops to them, and checks each path
 * is readable then. Prints `{ uid, gid, user }`, or `{ failed, code, message, path? }` and exits 1.
 */
const PROBE = `
const fs = require('node:fs'); const os = require('node:os');
const [user, group, ...paths] = process.argv.slice(1);
const fail = (failed, error, path) => { process.stdout.write(JSON.stringify({ failed, code: error.code, message: error.message, path })); process.exit(1); };
let { uid, gid, username } = os.userInfo();
if (user !== '') {
  const euid = process.geteuid();
  try { process.seteuid(user); ({ uid, gid, username } = os.userInfo()); process.seteuid(euid); } catch (error) { fail('user', error); }
}
if (group !== '') {
  try { const egid = process.getegid(); process.setegid(group); gid = process.getegid(); process.setegid(egid); } catch (error) { fail('group', error); }
}
try { if (process.getuid() === 0) process.initgroups(username, gid); process.setgid(gid); process.setuid(uid); } catch (error) { fail(user !== '' ? 'user' : 'group', error); }
for (const p of paths) {
  try { fs.accessSync(p, fs.statSync(p).isDirectory() ? fs.constants.R_OK | fs.constants.X_OK : fs.constants.R_OK); } catch (error) { fail('read', error, p); }
}
process.stdout.write(JSON.stringify({ uid, gid, user: username }));
`;

interface ProbeAnswer {
  readonly uid?: number;
  readonly gid?: number;
  readonly user?: string;
  readonly failed?: 'user' | 'group' | 'read';
  readonly code?: string;
  readonly message?: string;
  readonly path?: string;
}

/** The app's nearest node_modules, walking up from its directory (what its imports resolve from). */
function nearestNodeModules(appPath: string): string | undefined {
  for (let dir = path.dirname(appPath); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** The one line a failed probe means, naming the flag, the value and the fix. */
function describeFailure(answer: ProbeAnswer, user: string | undefined, group: string | undefined): string {
  const flag = answer.failed === 'group' ? `--group ${group ?? ''}` : `--user ${user ?? ''}`;
  if (answer.code === 'ERR_UNKNOWN_CREDENTIAL') return `${flag}: no such ${answer.failed} on this host; give an existing name or id`;
  if (answer.code === 'EPERM') return `${flag}: running workers as another user or group needs root (pcluster runs as uid ${process.getuid?.()}); start it as root, or drop the flag`;
  if (answer.failed === 'read') {
    const who = [user, group].filter((name) => name !== undefined).join(':');
    return `--user/--group ${who}: ${answer.path} is not readable by ${who} (${answer.code}); make the app and its node_modules readable by that user, or choose another --user`;
  }
  return `${flag}: cannot switch to it: ${answer.message ?? 'unknown error'}`;
}

/**
 * What --user / --group mean on this host, checked before anything starts: the ids the workers drop to, or undefined
 * when neither is given or they name who pcluster already runs as. A usage error (exit 2) names an unknown user or
 * group, a switch that needs root, and the first of the app file, its node_modules and pcluster's worker runtime
 * that the user cannot read.
 */
export function resolveWorkerIdentity(options: { user: string | undefined; group: string | undefined; appPath: string }, workerMain: string): RunAs | undefined {
  const { user, group, appPath } = options;
  if (user === undefined && group === undefined) return undefined;
  const runtimeDir = path.dirname(path.dirname(workerMain));
  const paths = [appPath, nearestNodeModules(appPath), runtimeDir].filter((p): p is string => p !== undefined);
  const probe = spawnSync(process.execPath, ['-e', PROBE, user ?? '', group ?? '', ...paths], { encoding: 'utf8', env: {} });
  let answer: ProbeAnswer;
  try {
    answer = JSON.parse(probe.stdout) as ProbeAnswer;
  } catch {
    throw new Error(`--user/--group: the check of ${user ?? ''}:${group ?? ''} failed: ${probe.stderr.trim().split('\n')[0] ?? probe.error?.message}`);
  }
  if (answer.failed !== undefined) throw new UsageError(describeFailure(answer, user, group));
  const runAs = { uid: answer.uid!, gid: answer.gid!, user: answer.user! };
  return runAs.uid === process.getuid?.() && runAs.gid === process.getgid?.() ? undefined : runAs;
}
