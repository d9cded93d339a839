/**
 * What validation costs on back-to-back requests: pcluster with its default
 * `--validate-after 1s` (a connection used within the window is handed out without a round
 * trip) against `--validate-after 0` (a `SELECT 1` before every statement: the old recipe's
 * ping), alternating in one run. `node benchmarks/dist/validation-cost.js [--quick]`
 */
import { startPostgres } from 'pcluster/postgres';
import { runLoad, type LoadResult } from './load.js';
import { seed } from './seed.js';
import { startPcluster } from './contender.js';

const isQuick = process.argv.includes('--quick');
const ROUNDS = isQuick ? 2 : 4;
const SECONDS = isQuick ? 4 : 8;
const CONNECTIONS = 32;
const WORKERS = 2;

const variants = [
  { name: 'validate-after 1s (default)', args: [] as string[] },
  { name: 'validate-after 0 (ping every statement)', args: ['--validate-after', '0'] },
];

const server = await startPostgres({ maxConnections: 50 });
try {
  await seed(server.connectionString);
  const results = new Map<string, LoadResult[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of round % 2 === 0 ? variants : [...variants].reverse()) {
      const cluster = await startPcluster(server.connectionString, WORKERS, variant.args);
      const url = `http://127.0.0.1:${cluster.port}/page`;
      await runLoad(url, { connections: CONNECTIONS, durationSeconds: 1 }); // warm-up
      const result = await runLoad(url, { connections: CONNECTIONS, durationSeconds: SECONDS });
      const validations = await (await fetch(`http://127.0.0.1:${cluster.metricsPort}/metrics`)).text();
      await cluster.stop();
      results.get(variant.name)!.push(result);
      const ok = /pcluster_db_validations_total\{result="ok"\} (\d+)/.exec(validations)?.[1];
      console.log(`round ${round + 1} ${variant.name}: ${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.p99Ms.toFixed(2)} ms, failures ${result.failures}, pings ${ok}`);
    }
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const [withWindow, pingAlways] = variants.map((v) => median(results.get(v.name)!.map((r) => r.requestsPerSecond)));
  console.log(`\nmedian req/s: default ${withWindow!.toFixed(0)}, ping-every-statement ${pingAlways!.toFixed(0)}; ratio ${(withWindow! / pingAlways!).toFixed(2)}x`);
} finally {
  await server.destroy();
}
