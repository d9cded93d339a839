/** Exponential backoff with "equal jitter": half the capped delay, plus a random share of the other half. */
export function backoffDelayMs(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Pauses between connection attempts: after a failure (an outage), and after a refusal for a connection limit (SPEC §6). */
export const RETRY_PACING = {
  outage: { baseMs: 100, capMs: 2_000 },
  /** Capped so that a slot another host frees is taken within a few seconds. */
  slotWait: { baseMs: 250, capMs: 3_000 },
} as const;

/** The pause before attempt `attempt + 1` of `kind`, jittered. */
export function retryDelayMs(kind: keyof typeof RETRY_PACING, attempt: number, random: () => number = Math.random): number {
  const { baseMs, capMs } = RETRY_PACING[kind];
  return backoffDelayMs(attempt, baseMs, capMs, random);
}

/** Resolves after `ms`; the timer alone does not keep the process alive. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
