/** This worker's side of the primary's start-up lock (the supervisor's boot-lock.ts): ask, wait for the grant, release. */
import { send } from './ipc.js';

let granted: (() => void) | undefined;

/** Asks the primary for the cluster's start-up lock; resolves once this worker holds it. */
export function acquirePrimaryBootLock(): Promise<void> {
  const held = new Promise<void>((resolve) => (granted = resolve));
  void send({ type: 'pcluster:boot-lock' });
  return held;
}

/** The primary's answer: the lock is this worker's. */
export function primaryBootLockGranted(): void {
  granted?.();
  granted = undefined;
}

/** Lets the next worker's start-up work run. */
export function releasePrimaryBootLock(): Promise<void> {
  return send({ type: 'pcluster:boot-unlock' });
}
