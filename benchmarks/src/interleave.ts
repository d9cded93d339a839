/**
 * A/B at the grain of seconds: starts every named contender at once, warms them, then loads
 * one at a time in short windows, alternating A B, B A, … so that each pair of windows is a
 * few seconds apart: this machine drifts by ±20% within minutes (investigation log, item 7), so the
 * drift inside a pair is small, and many pairs show how far the ratio moves. The full bench
 * now takes turns the same way (investigation log, item 16) with all its contenders and routes; this
 * tool runs many more pairs of two or three of them (a contender idle for a few seconds between its
 * windows wakes a little slowly, far less than after the full run's 18 s: investigation log, item 17). `--baseline <checkout>` adds pcluster `--prepare auto` from another
 * built checkout as contender `baseline`, to measure a change of pcluster itself.
 * `node benchmarks/dist/interleave.js [--contenders id,id] [--route page] [--pairs 20] [--seconds 2] [--warmup 6] [--restarts 1] [--baseline dir]`
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startPostgres } from 'pcluster/postgres';
import { postmasterPid, stopAll, tracked, trackServer } from './cleanup.js';
import { startPcluster, type RunningContender } from './contender.js';
import { CONTENDERS, WORKLOADS, type HttpContender } from './contenders.js';
import { runLoad } from './load.js';
import { treeCpuMs } from './process-tree.js';
import { seed } from './seed.js';
import { median, quantile } from './summary.js';

const { values } = parseArgs({
  options: {
    contenders: { type: 'string' }, route: { type: 'string' }, pairs: { type: 'string' }, seconds: { type: 'string' },
    warmup: { type: 'string' }, restarts: { type: 'string' }, baseline: { type: 'string' },
  },
});

const baseline: HttpContender | undefined = values.baseline === undefined ? undefined : {
  id: 'baseline', label: `pcluster --prepare auto (${path.basename(path.resolve(values.baseline))})`, kind: 'http',
  description: 'pcluster start --prepare auto from another built checkout',
  start: ({ databaseUrl, workers }) =>
    startPcluster(databaseUrl, workers, ['--prepare', 'auto'], { cli: path.resolve(values.baseline!, 'packages/supervisor/dist/cli.js') }),
};
const known = [...CONTENDERS.filter((c): c is HttpContender => c.kind === 'http'), ...(baseline === undefined ? [] : [baseline])];
const ids = (values.contenders ?? (baseline === undefined ? 'pcluster,hand-rolled-pipeline' : 'pcluster,baseline')).split(',');
const contenders = ids.map((id) => known.find((c) => c.id === id));
const route = values.route ?? 'page';
const [pairs, seconds, warmup, restarts] = [values.pairs ?? '20', values.seconds ?? '2', values.warmup ?? '6', values.restarts ?? '1'].map(Number) as [number, number, number, number];
if (contenders.length < 2 || contenders.includes(undefined) || !(WORKLOADS as readonly string[]).includes(route) ||
    ![pairs, seconds, warmup, restarts].every((n) => Number.isInteger(n) && n > 0)) {
  console.error(`usage: node benchmarks/dist/interleave.js [--contenders id,id,… of ${known.map((c) => c.id).join(', ')}] ` +
    `[--route ${WORKLOADS.join('|')}] [--pairs N] [--seconds N] [--warmup N] [--restarts N] [--baseline <built checkout>]`);
  process.exit(2);
}
const chosen = contenders as HttpContender[];

interface Window {
  readonly contender: string;
  readonly rps: number;
  /** CPU µs per request of the contender's process tree and of the whole PostgreSQL server. */
  readonly appUs: number;
  readonly dbUs: number;
}

const server = await startPostgres({ maxConnections: 100 });
const untrackServer = trackServer(server);
const windows: Window[][] = [];
try {
  await seed(server.connectionString);
  const postmaster = postmasterPid(server);
  const measure = async (contender: HttpContender, running: RunningContender): Promise<Window> => {
    const [appBefore, dbBefore] = [await treeCpuMs(running.rootPid), await treeCpuMs(postmaster)];
    const load = await runLoad(`http://127.0.0.1:${running.port}/${route}`, { connections: 32, durationSeconds: seconds });
    const [appAfter, dbAfter] = [await treeCpuMs(running.rootPid), await treeCpuMs(postmaster)];
    if (load.failures > 0) throw new Error(`${contender.label}: ${load.failures} failed requests on /${route}`);
    const perRequest = (ms: number): number => (ms * 1000) / load.requests;
    return { contender: contender.id, rps: load.requestsPerSecond, appUs: perRequest(appAfter - appBefore), dbUs: perRequest(dbAfter - dbBefore) };
  };
  for (let restart = 1; restart <= restarts; restart++) {
    const running: RunningContender[] = [];
    try {
      for (const contender of chosen) {
        running.push(tracked(await contender.start({ databaseUrl: server.connectionString, workers: 2 })));
      }
      for (const [i, contender] of chosen.entries()) {
        await runLoad(`http://127.0.0.1:${running[i]!.port}/${route}`, { connections: 32, durationSeconds: warmup });
        process.stderr.write(`warmed ${contender.label}\n`);
      }
      for (let pair = 0; pair < pairs; pair++) {
        const order = [...chosen.keys()];
        if (pair % 2 === 1) order.reverse();
        const measured: Window[] = [];
        for (const i of order) measured.push(await measure(chosen[i]!, running[i]!));
        windows.push(measured);
        process.stderr.write(`pair ${windows.length}: ${measured.map((w) => `${w.contender} ${w.rps.toFixed(0)}`).join(', ')}\n`);
      }
    } finally {
      for (const started of running.reverse()) await started.stop();
    }
  }
} finally {
  untrackServer();
  await stopAll();
  await server.destroy();
}

const [first, ...others] = chosen as [HttpContender, ...HttpContender[]];
const of = (pair: Window[], id: string): Window => pair.find((w) => w.contender === id)!;
console.log(`/${route}, 2 workers, 32 connections, ${windows.length} pairs of ${seconds} s windows (${restarts} start(s), ${warmup} s warm-up each)\n`);
console.log('| contender | req/s (median) | CPU µs/req app | CPU µs/req PostgreSQL |');
console.log('| --- | ---: | ---: | ---: |');
for (const contender of chosen) {
  const own = windows.map((pair) => of(pair, contender.id));
  console.log(`| ${contender.label} | ${median(own.map((w) => w.rps)).toFixed(0)} | ${median(own.map((w) => w.appUs)).toFixed(0)} | ${median(own.map((w) => w.dbUs)).toFixed(0)} |`);
}
console.log(`\n| ${first.label} ÷ | req/s, median of pairs | middle half of pairs | all pairs | pairs ≥ 1 | app + PostgreSQL CPU per request, median of pairs |`);
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const other of others) {
  const ratios = windows.map((pair) => of(pair, first.id).rps / of(pair, other.id).rps);
  const cpu = windows.map((pair) => (of(pair, first.id).appUs + of(pair, first.id).dbUs) / (of(pair, other.id).appUs + of(pair, other.id).dbUs));
  const fixed = (n: number): string => `${n.toFixed(2)}×`;
  console.log(`| ${other.label} | ${fixed(median(ratios))} | ${fixed(quantile(ratios, 0.25))}–${fixed(quantile(ratios, 0.75))} | ` +
    `${fixed(Math.min(...ratios))}–${fixed(Math.max(...ratios))} | ${ratios.filter((r) => r >= 1).length} of ${ratios.length} | ${fixed(median(cpu))} |`);
}
