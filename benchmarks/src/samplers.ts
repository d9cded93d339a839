import type pg from 'pg';
import { processTree, treeRssBytes } from './process-tree.js';

/** A background sampling loop; stop() ends it and resolves with what it saw. */
export interface Sampler<T> {
  stop(): Promise<T>;
}

/** Calls `sample` every `everyMs` (never two at once) until stopped. */
function loop(everyMs: number, sample: () => Promise<void>): { stop(): Promise<void> } {
  let isStopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const done = (async () => {
    while (!isStopped) {
      await sample();
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, everyMs);
      });
    }
  })();
  return {
    async stop() {
      isStopped = true;
      clearTimeout(timer);
      wake?.();
      await done;
    },
  };
}

export interface ConnectionSamples {
  readonly max: number;
  readonly samples: number;
}

/**
 * Counts the client backends PostgreSQL shows for `database` whose application_name is LIKE
 * `applicationName` (never the sampler's own) every `everyMs`, and keeps the maximum.
 */
export function sampleConnections(admin: pg.Client, database: string, applicationName: string, everyMs = 100): Sampler<ConnectionSamples> {
  let max = 0;
  let samples = 0;
  const sampling = loop(everyMs, async () => {
    max = Math.max(max, await connectionCount(admin, database, applicationName));
    samples += 1;
  });
  return { stop: async () => (await sampling.stop(), { max, samples }) };
}

/**
 * How many client backends PostgreSQL shows for `database` right now (besides `admin`'s), of those LIKE
 * `applicationName`, or with `others` of those NOT LIKE it.
 */
export async function connectionCount(admin: pg.Client, database: string, applicationName = '%', { others = false } = {}): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name ${others ? 'NOT LIKE' : 'LIKE'} $2`,
    [database, applicationName],
  );
  return rows[0]!.n;
}

export interface RssSamples {
  readonly peakBytes: number;
  readonly samples: number;
}

/** Sums VmRSS over the process tree of `rootPid` every `everyMs` (the tree is re-read each second) and keeps the peak. */
export function samplePeakRss(rootPid: number, everyMs = 200): Sampler<RssSamples> {
  let peakBytes = 0;
  let samples = 0;
  let tree: number[] = [];
  let treeReadAt = 0;
  const sampling = loop(everyMs, async () => {
    if (Date.now() - treeReadAt >= 1_000) {
      tree = await processTree(rootPid);
      treeReadAt = Date.now();
    }
    peakBytes = Math.max(peakBytes, await treeRssBytes(tree));
    samples += 1;
  });
  return { stop: async () => (await sampling.stop(), { peakBytes, samples }) };
}
