import { killAll } from './process-tree.js';

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
  // Last resort when the bench dies without running its finally blocks.
  process.on('exit', () => {
    for (const stoppable of active) killAll(stoppable.pids());
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
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
