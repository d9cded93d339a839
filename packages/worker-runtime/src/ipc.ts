/** The worker's side of the IPC channel to the primary. */
import { WORKER_EXIT, type SerializedError, type WorkerMessage } from './protocol.js';
import { redactSecrets } from './redact.js';

export function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, undefined, () => resolve());
  });
}

/** Reports a boot failure once and ends the process with the exit code the primary understands (3 app, 4 database). */
export async function failBoot(exitCode: number, error: SerializedError): Promise<never> {
  await send({ type: 'pcluster:boot-failed', error });
  process.exit(exitCode);
}

/** What a module or hook threw, as text: `throw null` and objects without a prototype have no String() of their own. */
export function describeThrown(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

export function appError(code: string, prefix: string, error: unknown): SerializedError {
  const message = error instanceof Error ? error.message : describeThrown(error);
  const detail = error instanceof Error ? error.stack : undefined;
  return { code, message: redactSecrets(`${prefix}${message}`), ...(detail === undefined ? {} : { detail: redactSecrets(detail) }) };
}

export const failAppBoot = (error: SerializedError): Promise<never> => failBoot(WORKER_EXIT.appBootFailed, error);
