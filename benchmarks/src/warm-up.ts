/**
 * How long a freshly started contender needs before it serves at its steady rate: starts each
 * one, runs back-to-back load windows on one route and prints the rate of every window, in
 * alternating rounds. It is what `bench.js --warmup` is chosen from.
 * `node benchmarks/dist/warm-up.js [--contenders id,id] [--route page] [--windows 6] [--seconds 2] [--rounds 2]`
 */
import { parseArgs } from 'node:util';
import { startPostgres } from 'pcluster/postgres';
import { stopAll, track, trackServer } from './cleanup.js';
import { CONTENDERS, WORKLOADS, type HttpContender } from './contenders.js';
import { runLoad } from './load.js';
import { seed } from './seed.js';

const { values } = parseArgs({
  options: { contenders: { type: 'string' }, route: { type: 'string' }, windows: { type: 'string' }, seconds: { type: 'string' }, rounds: { type: 'string' } },
});
const ids = (values.contenders ?? 'pcluster,hand-rolled-pipeline').split(',');
const contenders = CONTENDERS.filter((c): c is HttpContender => c.kind === 'http' && ids.includes(c.id));
const route = values.route ?? 'page';
const windows = Number(values.windows ?? 6);
const seconds = Number(values.seconds ?? 2);
const rounds = Number(values.rounds ?? 2);
if (contenders.length !== ids.length || !(WORKLOADS as readonly string[]).includes(route) || ![windows, seconds, rounds].every((n) => Number.isInteger(n) && n > 0)) {
  console.error(`usage: node benchmarks/dist/warm-up.js [--contenders ${CONTENDERS.filter((c) => c.kind === 'http').map((c) => c.id).join(',')}] ` +
    `[--route ${WORKLOADS.join('|')}] [--windows N] [--seconds N] [--rounds N]`);
  process.exit(2);
}

const server = await startPostgres({ maxConnections: 100 });
const untrackServer = trackServer(server);
try {
  await seed(server.connectionString);
  console.log(`req/s of /${route} in back-to-back ${seconds} s windows from a fresh start (2 workers, 32 connections):`);
  for (let round = 1; round <= rounds; round++) {
    for (const contender of round % 2 === 1 ? contenders : [...contenders].reverse()) {
      const running = await contender.start({ databaseUrl: server.connectionString, workers: 2 });
      const untrack = track(running);
      try {
        const rates: string[] = [];
        for (let window = 0; window < windows; window++) {
          const result = await runLoad(`http://127.0.0.1:${running.port}/${route}`, { connections: 32, durationSeconds: seconds });
          rates.push(result.requestsPerSecond.toFixed(0).padStart(6));
        }
        console.log(`round ${round}  ${contender.label.padEnd(26)} ${rates.join(' ')}`);
      } finally {
        await running.stop();
        untrack();
      }
    }
  }
} finally {
  untrackServer();
  await stopAll();
  await server.destroy();
}
