import { isUnreachable } from './connect-settings.js';

/** An error in its own words; a connect to a name with several addresses fails with an AggregateError whose message is empty. */
export function describeError(error: Error): string {
  if (error.message !== '') return error.message;
  const inner = (error as { errors?: unknown }).errors;
  if (Array.isArray(inner) && inner.length > 0) return inner.map((each) => describeError(each as Error)).join('; ');
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error.name;
}

/**
 * The log line for one failed (re)connect attempt: its number in this outage (from 1) and the wait before the
 * next, on one line. Only the first attempt carries the error with its stack; later ones say what failed, so an
 * outage logs one trace per worker rather than one per attempt.
 */
export function reconnectWarning(error: Error, attempt: number, retryInMs: number): { fields: Record<string, unknown>; message: string } {
  const what = isUnreachable(error) ? 'database unreachable' : 'database reconnect failed';
  const code = (error as { code?: unknown }).code;
  const detail = attempt === 1 ? { err: error } : typeof code === 'string' ? { code } : {};
  return { fields: { attempt, retryInMs, ...detail }, message: `${what} (attempt ${attempt}, next in ${retryInMs}ms): ${describeError(error)}` };
}
