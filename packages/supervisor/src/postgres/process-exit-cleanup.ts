const cleanups = new Set<() => void>();

function runCleanups(): void {
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // Best effort: the process is exiting, and every other cleanup should still run.
    }
  }
}

/**
 * Runs `cleanup` (synchronously) if this process exits before the returned function is
 * called: a safety net so that a crashed test run leaves no server behind.
 */
export function onProcessExit(cleanup: () => void): () => void {
  if (cleanups.size === 0) process.on('exit', runCleanups);
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
    if (cleanups.size === 0) process.off('exit', runCleanups);
  };
}
