import type { RunAs } from './protocol.js';

/** node's process.initgroups (POSIX), which @types/node 20 leaves out. */
type WithInitgroups = NodeJS.Process & { initgroups?: (user: string, extraGroup: number) => void };

/**
 * Drops this worker to `runAs` as gunicorn's workers do before loading the app: supplementary groups of the user
 * (initgroups), then the group, then the user, which must come last as it gives up the right to change the others.
 */
export function dropPrivileges(runAs: RunAs): void {
  if (process.getuid?.() === 0) (process as WithInitgroups).initgroups?.(runAs.user, runAs.gid);
  process.setgid!(runAs.gid);
  process.setuid!(runAs.uid);
}
