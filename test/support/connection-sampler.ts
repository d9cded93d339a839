import type pg from 'pg';

/**
 * Samples how many connections PostgreSQL shows for the cluster, every `intervalMs`, until
 * stopped; the maximum is what the budget guarantee is about.
 */
export function sampleConnections(admin: pg.Client, name: string, intervalMs = 50): { stop(): Promise<{ max: number; samples: number }> } {
  let max = 0;
  let samples = 0;
  let isRunning = true;
  const loop = (async () => {
    while (isRunning) {
      const { rows } = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE $1', [`pcluster:${name}:%`]);
      max = Math.max(max, rows[0].n);
      samples += 1;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      isRunning = false;
      await loop;
      return { max, samples };
    },
  };
}
