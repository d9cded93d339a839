/**
 * What PostgreSQL spends per /page for each contender, process by process: the contender's own
 * backends (by application_name), every other server process, user and system time apart, and
 * with `--strace` the system calls the contender's backends make per page. pgbench runs the
 * same page (`-M prepared`, one client per worker) in the same rounds; its backends come and go
 * with each run, so its figures come from the postmaster's reaped children. This is the server
 * half of the "≥ 0.8× pgbench" target: what the database itself costs per page when HTTP
 * contenders and their load share its cores, against what it costs under pgbench.
 * `node benchmarks/dist/server-side.js [--contenders id,id] [--rounds N] [--seconds N] [--strace]`
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startPostgres, type PostgresServer } from 'pcluster/postgres';
import { postmasterPid, stopAll, tracked, trackServer } from './cleanup.js';
import type { RunningContender } from './contender.js';
import { CONTENDERS, type HttpContender } from './contenders.js';
import { runLoad } from './load.js';
import { startPgbench } from './pgbench.js';
import { CLOCK_TICKS_PER_SECOND, cpuTicks, processTree } from './process-tree.js';
import { seed } from './seed.js';
import { median } from './summary.js';

const { values } = parseArgs({
  options: { contenders: { type: 'string' }, rounds: { type: 'string' }, seconds: { type: 'string' }, strace: { type: 'boolean' } },
});
const httpContenders = CONTENDERS.filter((c): c is HttpContender => c.kind === 'http');
const ids = (values.contenders ?? 'pcluster,hand-rolled-pipeline,postgresjs-1').split(',');
const chosen = ids.map((id) => httpContenders.find((c) => c.id === id));
const [rounds, seconds] = [values.rounds ?? '3', values.seconds ?? '4'].map(Number) as [number, number];
if (chosen.includes(undefined) || ![rounds, seconds].every((n) => Number.isInteger(n) && n > 0)) {
  console.error(`usage: node benchmarks/dist/server-side.js [--contenders id,… of ${httpContenders.map((c) => c.id).join(', ')}] [--rounds N] [--seconds N] [--strace]`);
  process.exit(2);
}
const contenders = chosen as HttpContender[];
const PGBENCH = 'pgbench -M prepared';

interface Cpu {
  readonly user: number;
  readonly system: number;
}

/** Every process of the server: the postmaster (with what it reaped) and its live children. */
async function serverCpu(postmaster: number): Promise<Map<number, Cpu>> {
  const cpu = new Map<number, Cpu>();
  for (const pid of await processTree(postmaster)) cpu.set(pid, await cpuTicks(pid, { reaped: pid === postmaster }));
  return cpu;
}

/** The backends PostgreSQL shows for an application_name pattern. */
async function backendPids(admin: pg.Client, applicationName: string): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND application_name LIKE $1 AND pid <> pg_backend_pid()", [applicationName]);
  return rows.map((row) => row.pid);
}

interface Sample {
  readonly contender: string;
  readonly pages: number;
  /** µs per page: the contender's own backends (pgbench: the postmaster's reaped children, i.e. its backends), and the rest of the server. */
  readonly own: Cpu;
  readonly rest: Cpu;
}

/** Loads one contender for `seconds` and splits the server's CPU over its pages. */
async function sample(postmaster: number, contender: string, ownPids: readonly number[] | 'reaped', load: () => Promise<number>): Promise<Sample> {
  const before = await serverCpu(postmaster);
  const pages = await load();
  const after = await serverCpu(postmaster);
  const own = { user: 0, system: 0 };
  const rest = { user: 0, system: 0 };
  for (const [pid, end] of after) {
    const start = before.get(pid) ?? { user: 0, system: 0 };
    const isOwn = ownPids === 'reaped' ? pid === postmaster : ownPids.includes(pid);
    const into = isOwn ? own : rest;
    into.user += end.user - start.user;
    into.system += end.system - start.system;
  }
  const perPage = (ticks: number): number => (ticks * 1e6) / CLOCK_TICKS_PER_SECOND / pages;
  return { contender, pages, own: { user: perPage(own.user), system: perPage(own.system) }, rest: { user: perPage(rest.user), system: perPage(rest.system) } };
}

/** System calls per page of `pids` (strace -c -f) while `load` runs; `strace` must be installed. */
async function syscallsPerPage(pids: readonly number[], load: () => Promise<number>): Promise<Map<string, number>> {
  const tracer = spawn('strace', ['-c', '-f', ...pids.flatMap((pid) => ['-p', String(pid)])], { stdio: ['ignore', 'ignore', 'pipe'] });
  let report = '';
  tracer.stderr.setEncoding('utf8').on('data', (chunk: string) => (report += chunk));
  const exited = new Promise<void>((resolve, reject) => {
    tracer.once('error', (error) => reject(new Error(`--strace needs strace on the PATH (apt-get install strace): ${error.message}`)));
    tracer.once('exit', () => resolve());
  });
  exited.catch(() => {}); // heard below, after the load
  await new Promise((resolve) => setTimeout(resolve, 500));
  const pages = await load();
  tracer.kill('SIGINT');
  await exited;
  const calls = new Map<string, number>();
  // "% time  seconds  usecs/call  calls  [errors]  syscall": the count is the 4th column, the name the last.
  for (const line of report.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (!/^\d/.test(fields[0] ?? '') || fields.at(-1) === 'total') continue;
    calls.set(fields.at(-1)!, Number(fields[3]) / pages);
  }
  return calls;
}

async function main(server: PostgresServer): Promise<void> {
  await seed(server.connectionString);
  const admin = new pg.Client({ connectionString: server.connectionString });
  await admin.connect();
  const postmaster = postmasterPid(server);
  const running: RunningContender[] = [];
  try {
    for (const contender of contenders) {
      running.push(tracked(await contender.start({ databaseUrl: server.connectionString, workers: 2 })));
    }
    const page = (r: RunningContender, durationSeconds: number) => async (): Promise<number> =>
      (await runLoad(`http://127.0.0.1:${r.port}/page`, { connections: 32, durationSeconds })).requests;
    const pgbench = (durationSeconds: number) => async (): Promise<number> =>
      (await startPgbench(server, { protocol: 'prepared', clients: 2, seconds: durationSeconds }).result).transactions;
    for (const r of running) await page(r, 6)();
    await pgbench(3)();
    const samples: Sample[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const [i, contender] of contenders.entries()) {
        const r = running[i]!;
        await page(r, 1)();
        samples.push(await sample(postmaster, contender.id, await backendPids(admin, r.applicationName), page(r, seconds)));
      }
      samples.push(await sample(postmaster, PGBENCH, 'reaped', pgbench(seconds)));
      process.stderr.write(`round ${round}: ${samples.slice(-contenders.length - 1).map((s) => `${s.contender} ${(s.pages / seconds).toFixed(0)}/s`).join(', ')}\n`);
    }
    console.log(`/page, 2 workers (pgbench: 2 clients), 32 connections, ${rounds} rounds of ${seconds} s; PostgreSQL CPU µs per page, medians over rounds\n`);
    console.log('| contender | pages/s | own backends user | own backends system | rest of the server |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const id of [...ids, PGBENCH]) {
      const own = samples.filter((s) => s.contender === id);
      const fixed = (pick: (s: Sample) => number): string => median(own.map(pick)).toFixed(0);
      console.log(`| ${id} | ${median(own.map((s) => s.pages / seconds)).toFixed(0)} | ${fixed((s) => s.own.user)} | ${fixed((s) => s.own.system)} | ${fixed((s) => s.rest.user + s.rest.system)} |`);
    }
    if (values.strace === true) {
      console.log('\nSystem calls per page of the contender\'s backends (`strace -c -f`, one window each; pgbench: the postmaster and the backends it forks)\n');
      const traced: Array<[string, Map<string, number>]> = [];
      for (const [i, contender] of contenders.entries()) {
        const r = running[i]!;
        traced.push([contender.id, await syscallsPerPage(await backendPids(admin, r.applicationName), page(r, seconds))]);
      }
      traced.push([PGBENCH, await syscallsPerPage([postmaster], pgbench(seconds))]);
      const names = [...new Set(traced.flatMap(([, calls]) => [...calls].filter(([, n]) => n >= 0.05).map(([name]) => name)))].sort();
      console.log(`| syscall | ${traced.map(([id]) => id).join(' | ')} |`);
      console.log(`| --- |${traced.map(() => ' ---: |').join('')}`);
      for (const name of names) console.log(`| ${name} | ${traced.map(([, calls]) => (calls.get(name) ?? 0).toFixed(2)).join(' | ')} |`);
    }
  } finally {
    for (const r of running.reverse()) await r.stop();
    await admin.end();
  }
}

const server = await startPostgres({ maxConnections: 100 });
const untrackServer = trackServer(server);
try {
  await main(server);
} finally {
  untrackServer();
  await stopAll();
  await server.destroy();
}
