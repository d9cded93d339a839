/**
 * Memory of a running cluster over time, for the soak: RSS and V8 heap in use of the primary and
 * of each worker slot, read from the cluster's own `/metrics` (prom-client's default process
 * metrics, labelled `worker="primary"` or the slot), and heap snapshots on request.
 *
 * Snapshots use Node's own `--heapsnapshot-signal`: the cluster is started with
 * `NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR` (see `heapSnapshotEnv`), which the
 * workers inherit, so SIGUSR2 to any of its processes writes `Heap.*.<pid>.*.heapsnapshot` into DIR.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface MemorySample {
  readonly minute: number;
  /** Megabytes by process: `primary`, or a worker's slot. */
  readonly rssMb: Record<string, number>;
  readonly heapUsedMb: Record<string, number>;
  /** What V8 has committed for its heap (used, garbage not yet collected, and free space). */
  readonly heapTotalMb: Record<string, number>;
  /** Memory of C++ objects bound to JavaScript ones (Buffers among them): outside the heap, inside RSS. */
  readonly externalMb: Record<string, number>;
}

const MB = 1048576;

/** The environment that makes every process of the cluster write a heap snapshot into `dir` on SIGUSR2. */
export function heapSnapshotEnv(dir: string): NodeJS.ProcessEnv {
  const inherited = process.env['NODE_OPTIONS'] ?? '';
  return { NODE_OPTIONS: `${inherited} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}`.trim() };
}

/** One gauge of the Prometheus text by its `worker` label. */
function byWorker(text: string, name: string): Record<string, number> {
  const values: Record<string, number> = {};
  const line = new RegExp(`^${name}\\{[^}]*worker="([^"]+)"[^}]*\\} (\\S+)`, 'gm');
  for (const [, worker, value] of text.matchAll(line)) values[worker!] = Math.round((Number(value) / MB) * 10) / 10;
  return values;
}

/** RSS and heap in use of every process of the cluster, from its `/metrics`. */
export async function sampleMemory(metricsUrl: string, minute: number): Promise<MemorySample> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  return {
    minute: Math.round(minute * 10) / 10,
    rssMb: byWorker(text, 'process_resident_memory_bytes'),
    heapUsedMb: byWorker(text, 'nodejs_heap_size_used_bytes'),
    heapTotalMb: byWorker(text, 'nodejs_heap_size_total_bytes'),
    externalMb: byWorker(text, 'nodejs_external_memory_bytes'),
  };
}

/**
 * Sends SIGUSR2 to each pid and waits until each has written its snapshot (a file naming the pid
 * whose size stopped changing). Returns the files, in the order of `pids`.
 */
export async function writeHeapSnapshots(dir: string, pids: readonly number[], timeoutMs = 120_000): Promise<string[]> {
  const before = new Set(await readdir(dir));
  for (const pid of pids) process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  const sizes = new Map<string, number>();
  while (Date.now() < deadline) {
    await sleep(2000);
    const fresh = (await readdir(dir)).filter((file) => !before.has(file) && file.endsWith('.heapsnapshot'));
    const files = pids.map((pid) => fresh.find((file) => file.split('.').includes(String(pid))));
    if (files.every((file) => file !== undefined)) {
      const now = await Promise.all(files.map(async (file) => (await stat(path.join(dir, file!))).size));
      const settled = files.every((file, i) => now[i]! > 0 && sizes.get(file!) === now[i]);
      files.forEach((file, i) => sizes.set(file!, now[i]!));
      if (settled) return files.map((file) => path.join(dir, file!));
    }
  }
  throw new Error(`heap snapshots of ${pids.join(', ')} not written to ${dir} within ${timeoutMs / 1000} s`);
}

/** Least-squares slope in MB per hour of one process's series, over the samples at or after `fromMinute`. */
export function slopeMbPerHour(samples: readonly MemorySample[], pick: (sample: MemorySample) => number | undefined, fromMinute: number): number | null {
  const points = samples.filter((s) => s.minute >= fromMinute).map((s) => [s.minute, pick(s)] as const).filter((p): p is readonly [number, number] => p[1] !== undefined);
  if (points.length < 2) return null;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / points.length;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / points.length;
  const covariance = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const variance = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  return Math.round((covariance / variance) * 60 * 10) / 10;
}
