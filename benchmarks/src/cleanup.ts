import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PostgresServer } from 'pcluster/postgres';
import { killAll, processTreeSync } from './process-tree.js';

/** Something the benchmark started: how to stop it politely, and which pids to SIGKILL if the process dies first. */
export interface Stoppable {
  stop(): Promise<void>;
  pids(): readonly number[];
}

const active = new Set<Stoppable>();
let isInstalled = false;

function install(): void {
  if (isInstalled) return;
  isInstalled = true;
  // Last resort when the bench dies without running its finally blocks: what is registered, and every process
  // it started that is still its descendant (one still starting when a signal came is not registered yet).
  process.on('exit', () => {
    for (const stoppable of active) killAll(stoppable.pids());
    killAll(processTreeSync(process.pid).slice(1));
  });
  let isStopping = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (isStopping) {
        // A second signal (a second Ctrl-C, or `timeout` passing on the one it got): no more waiting, but nothing left behind.
        console.error(`\n${signal} again: killing every contender and the PostgreSQL server`);
        process.exit(130);
      }
      isStopping = true;
      // What is left of the run fails as its contenders and server go away under it (a sampler's query, a load
      // run's connections): expected now, and no reason to exit before everything is stopped.
      process.on('uncaughtException', () => {});
      process.on('unhandledRejection', () => {});
      console.error(`\n${signal}: stopping every contender and the PostgreSQL server`);
      void stopAll().finally(() => process.exit(130));
    });
  }
}

/** Registers `stoppable` until the returned function is called (after it stopped). */
export function track(stoppable: Stoppable): () => void {
  install();
  active.add(stoppable);
  return () => active.delete(stoppable);
}

/** `stoppable` registered for cleanup, with a stop() that unregisters it once it has stopped. */
export function tracked<T extends Stoppable>(stoppable: T): T {
  const untrack = track(stoppable);
  return { ...stoppable, stop: () => stoppable.stop().finally(untrack) };
}

/** Stops everything still registered, newest first; never rejects. */
export async function stopAll(): Promise<void> {
  for (const stoppable of [...active].reverse()) {
    try {
      await stoppable.stop();
    } catch (error) {
      console.error('cleanup failed:', error);
      killAll(stoppable.pids());
    }
    active.delete(stoppable);
  }
}

/**
 * Registers the benchmark's PostgreSQL server like a contender: stopped by destroy(), its postmaster
 * killed if the bench dies first (its backends and helpers notice the postmaster's death and exit).
 */
export function trackServer(server: PostgresServer): () => void {
  const pids = (): number[] => {
    try {
      return [postmasterPid(server)];
    } catch {
      return []; // stopped: no postmaster.pid
    }
  };
  return track({ stop: () => server.destroy(), pids });
}

/** The postmaster's pid, from the first line of `postmaster.pid` in its data directory. */
export function postmasterPid(server: PostgresServer): number {
  return Number(readFileSync(path.join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}
