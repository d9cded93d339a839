/**
 * Instructions per request, counted by valgrind's callgrind instead of timed: on this shared machine
 * req/s and CPU time move by ±20% from one minute to the next, while an instruction count repeats to
 * within ~0.5% (investigation log, item 14), so a change of a few percent on the hot path shows in one run.
 *
 * Each subject serves with one worker under callgrind (threads counted apart). After a warm-up long
 * enough for V8 to finish tiering up the hot code, the worker's counters are zeroed, `--requests`
 * requests are sent at a fixed concurrency over keep-alive connections, and the counters are dumped;
 * then the worker sits idle for 20 s, and what it does per second when idle (heartbeats, timers) is
 * taken out of the loaded counts for the time the requests took. Reported per request: the worker's main thread (split into garbage collection, V8 builtins, compiled
 * JavaScript and native code) and its background threads (compilers, GC helpers). Subjects run side by
 * side: an instruction count does not depend on what else the machine does. Garbage collection under
 * valgrind is not what it is natively (it runs ~50× slower, so more is in flight at each scavenge); compare
 * the main thread without GC first.
 *
 * `node benchmarks/dist/instructions.js [--subjects pcluster,hand-rolled] [--baseline <built checkout>] [--route page] [--warmup 45000] [--requests 5000] [--concurrency 8] [--keep <dir>]`
 * `--keep` writes callgrind's dumps into `<dir>` and leaves them there, for `callgrind_annotate` by function.
 * Needs valgrind (`apt-get install valgrind`); about 8 minutes for two subjects.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, startPostgres } from 'pcluster/postgres';
import { stopAll, track, trackServer } from './cleanup.js';
import { appPath, childContender, CLI, sleep, waitUntilServing, type RunningContender } from './contender.js';
import { WORKLOADS } from './contenders.js';
import { processTree } from './process-tree.js';
import { seed } from './seed.js';

const { values } = parseArgs({
  options: {
    subjects: { type: 'string' }, baseline: { type: 'string' }, route: { type: 'string' },
    warmup: { type: 'string' }, requests: { type: 'string' }, concurrency: { type: 'string' }, keep: { type: 'string' },
  },
});

interface Subject {
  readonly id: string;
  readonly label: string;
  /** The node command line (after `node`) and its environment. */
  command(port: number, metricsPort: number, databaseUrl: string): { args: string[]; env: NodeJS.ProcessEnv };
}

/** pcluster with one worker and its default flags; the worker gets minutes to boot under valgrind. */
const pcluster = (id: string, cli: string, label: string): Subject => ({
  id, label,
  command: (port, metricsPort, databaseUrl) => ({
    args: [cli, 'start', appPath('pcluster-app.mjs'), '--workers', '1', '--port', String(port), '--metrics-port', String(metricsPort),
      '--database-url', databaseUrl, '--log-format', 'json', '--name', `instructions${port}`, '--timeout', '120s',
      // Under valgrind on a busy machine one connect can outlast node-postgres' 5 s connect timeout, and a ping its 2 s
      // deadline (the connection is then replaced and the requests on it fail).
      '--wait-for-db', '300s', '--validation-timeout', '60s'],
    env: process.env,
  }),
});

/** One of the node:cluster apps in apps/, with one worker. */
const nodeClusterApp = (id: string, app: string, label: string, env: NodeJS.ProcessEnv = {}): Subject => ({
  id, label,
  command: (port, _metricsPort, databaseUrl) => ({ args: [appPath(app)], env: { ...process.env, ...env, PORT: String(port), WORKERS: '1', DATABASE_URL: databaseUrl } }),
});

const SUBJECTS: readonly Subject[] = [
  pcluster('pcluster', CLI, 'pcluster'),
  nodeClusterApp('hand-rolled', 'hand-rolled.mjs', 'hand-rolled, one at a time'),
  nodeClusterApp('hand-rolled-pipeline', 'hand-rolled-pipeline.mjs', 'hand-rolled pipeline ceiling'),
  nodeClusterApp('postgresjs-1', 'postgresjs.mjs', 'Postgres.js, max: 1', { POSTGRES_MAX: '1' }),
  ...(values.baseline === undefined ? [] : [pcluster('baseline', path.resolve(values.baseline, 'packages/supervisor/dist/cli.js'), `pcluster (${path.basename(path.resolve(values.baseline))})`)]),
];

const ids = (values.subjects ?? (values.baseline === undefined ? 'pcluster,hand-rolled' : 'pcluster,baseline')).split(',');
const subjects = ids.map((id) => SUBJECTS.find((s) => s.id === id));
const route = values.route ?? 'page';
const [warmup, requests, concurrency] = [values.warmup ?? '45000', values.requests ?? '5000', values.concurrency ?? '8'].map(Number) as [number, number, number];
if (subjects.length === 0 || subjects.includes(undefined) || !(WORKLOADS as readonly string[]).includes(route) || ![warmup, requests, concurrency].every((n) => Number.isInteger(n) && n > 0)) {
  console.error(`usage: node benchmarks/dist/instructions.js [--subjects ${SUBJECTS.map((s) => s.id).join(',')}] [--baseline <built checkout>] ` +
    `[--route ${WORKLOADS.join('|')}] [--warmup N] [--requests N] [--concurrency N] [--keep <dir>]`);
  process.exit(2);
}
if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('instructions: valgrind is not installed (apt-get install valgrind)');
  process.exit(2);
}

/** `total` requests to `url`, `concurrency` at a time over keep-alive connections; rejects on any failure. */
async function sendRequests(url: string, total: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let sent = 0;
  const next = async (): Promise<void> => {
    while (sent < total) {
      sent += 1;
      await new Promise<void>((resolve, reject) => {
        http.get(url, { agent }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
        }).on('error', reject);
      });
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, next));
  } finally {
    agent.destroy();
  }
}

interface Counts {
  readonly subject: string;
  /** Instructions per request by thread (the main thread first), and the main thread's split. */
  readonly mainPerRequest: number;
  readonly backgroundPerRequest: number;
  /** The main thread's instructions per second when idle, and how long the measured requests took. */
  readonly idleMainPerSecond: number;
  readonly loadedSeconds: number;
  readonly main: Readonly<Record<'gc' | 'builtins' | 'javascript' | 'native', number>>;
}

const GC = /Scaveng|Evacuat|Pretenuring|BodyDescriptor|heap::|Heap::|MarkCompact|Marking|Sweeper|RememberedSet|SlotSet|MemoryChunk|SizeFromMap/;

/**
 * The main thread's instructions by kind, from callgrind_annotate's self cost per function: V8's garbage
 * collector, its builtins, code it compiled at run time (no symbol: named by address in an unnamed object),
 * and the rest (Node, libuv, libc, the kernel interface) as what remains of `total`.
 */
function splitByKind(file: string, total: number): Counts['main'] {
  const out = spawnSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).stdout;
  const split = { gc: 0, builtins: 0, javascript: 0, native: 0 };
  for (const line of out.split('\n')) {
    const match = /^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (match === null) continue;
    const [count, name] = [Number(match[1]!.replaceAll(',', '')), match[2]!];
    if (GC.test(name)) split.gc += count;
    else if (name.includes('Builtins_')) split.builtins += count;
    else if (name.endsWith('[???]')) split.javascript += count;
  }
  split.native = total - split.gc - split.builtins - split.javascript;
  return split;
}

const IDLE_SECONDS = 20;

/** The per-thread instruction totals of dump `part` of `worker` (main thread first), and their files. */
async function dumpTotals(dir: string, id: string, worker: number, part: number): Promise<{ files: string[]; totals: number[] }> {
  const files = (await readdir(dir)).filter((file) => file.startsWith(`${id}.${worker}.${part}-`)).sort().map((file) => path.join(dir, file));
  if (files.length === 0) throw new Error(`callgrind wrote no dump ${part} for worker ${worker}`);
  const totals = await Promise.all(files.map(async (file) => Number(/^summary: (\d+)/m.exec(await readFile(file, 'utf8'))?.[1] ?? 0)));
  return { files, totals };
}

async function measure(subject: Subject, databaseUrl: string, dir: string): Promise<Counts> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const { args, env } = subject.command(port, metricsPort, databaseUrl);
  const out = path.join(dir, `${subject.id}.%p`);
  const child = spawn('valgrind', ['--tool=callgrind', '--smc-check=all-non-file', '--trace-children=yes', '--separate-threads=yes', `--callgrind-out-file=${out}`, '--log-file=/dev/null',
    process.execPath, ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const running: RunningContender = await childContender(child, port, `%`, 60_000);
  const untrack = track(running);
  try {
    const url = `http://127.0.0.1:${port}/${route}`;
    await waitUntilServing(url, 900_000);
    const [worker] = (await processTree(child.pid!)).slice(1);
    if (worker === undefined) throw new Error(`${subject.label}: no worker process`);
    console.error(`${subject.label}: worker ${worker} serving; ${warmup} requests to warm up`);
    await sendRequests(url, warmup);
    spawnSync('callgrind_control', ['--zero', String(worker)]);
    const startedAt = performance.now();
    await sendRequests(url, requests);
    const loadedSeconds = (performance.now() - startedAt) / 1000;
    spawnSync('callgrind_control', ['--dump', String(worker)]);
    // What the worker does when idle (heartbeats, timers, prom-client's event-loop monitor) runs per second, not per
    // request, and a second under valgrind serves ~1/50 of the requests it would: measured, and taken out again.
    spawnSync('callgrind_control', ['--zero', String(worker)]);
    await sleep(IDLE_SECONDS * 1000);
    spawnSync('callgrind_control', ['--dump', String(worker)]);
    const [loaded, idle] = [await dumpTotals(dir, subject.id, worker, 1), await dumpTotals(dir, subject.id, worker, 2)];
    const idleFor = (i: number): number => ((idle.totals[i] ?? 0) / IDLE_SECONDS) * loadedSeconds;
    const perRequest = (n: number): number => Math.round(n / requests);
    const split = splitByKind(loaded.files[0]!, loaded.totals[0]!);
    const background = loaded.totals.slice(1).reduce((sum, n, i) => sum + n - idleFor(i + 1), 0);
    return {
      subject: subject.label,
      mainPerRequest: perRequest(loaded.totals[0]! - idleFor(0)),
      backgroundPerRequest: perRequest(background),
      idleMainPerSecond: Math.round((idle.totals[0] ?? 0) / IDLE_SECONDS),
      loadedSeconds: Math.round(loadedSeconds * 10) / 10,
      main: { gc: perRequest(split.gc), builtins: perRequest(split.builtins), javascript: perRequest(split.javascript), native: perRequest(split.native - idleFor(0)) },
    };
  } finally {
    await running.stop();
    untrack();
  }
}

const server = await startPostgres({ maxConnections: 100 });
const untrackServer = trackServer(server);
const dir = values.keep === undefined ? await mkdtemp(path.join(os.tmpdir(), 'pcluster-instructions-')) : path.resolve(values.keep);
if (values.keep !== undefined) await mkdir(dir, { recursive: true });
try {
  await seed(server.connectionString);
  const results = await Promise.all((subjects as Subject[]).map((subject) => measure(subject, server.connectionString, dir)));
  const k = (n: number): string => `${(n / 1000).toFixed(1)}k`;
  console.log(`\ninstructions per /${route} request (${requests} requests after ${warmup} to warm up, ${concurrency} at a time, 1 worker):\n`);
  console.log('| subject | main thread | main without GC | GC | builtins | compiled JS | native | background threads | idle main thread/s (taken out) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(`| ${r.subject} | ${k(r.mainPerRequest)} | ${k(r.mainPerRequest - r.main.gc)} | ${k(r.main.gc)} | ${k(r.main.builtins)} | ${k(r.main.javascript)} | ${k(r.main.native)} | ${k(r.backgroundPerRequest)} | ${k(r.idleMainPerSecond)} over ${r.loadedSeconds} s |`);
  }
  const [first, ...others] = results;
  for (const other of others) {
    const ratio = (a: number, b: number): string => `${(a / b).toFixed(3)}×`;
    console.log(`\n${first!.subject} ÷ ${other.subject}: main thread ${ratio(first!.mainPerRequest, other.mainPerRequest)}, ` +
      `without GC ${ratio(first!.mainPerRequest - first!.main.gc, other.mainPerRequest - other.main.gc)}`);
  }
  console.log(`\n${JSON.stringify({ route, requests, warmup, concurrency, results })}`);
} finally {
  if (values.keep === undefined) await rm(dir, { recursive: true, force: true });
  else console.log(`callgrind's dumps are in ${dir} (<subject>.<pid>.<1 loaded, 2 idle>-<thread>)`);
  await server.destroy();
  untrackServer();
  await stopAll();
}
