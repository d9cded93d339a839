/**
 * The statement hot path in one process, without HTTP, without a second worker and without
 * the load generator on the same cores: the CPU one /page (3 primary-key selects) or one /write
 * (BEGIN, UPDATE, INSERT, COMMIT) costs through pcluster's connection keeper, statement pipeline
 * and `--prepare auto` runner, against a bare pg.Client running the same named statements in
 * turn (one at a time, where pcluster pipelines up to 32), with and without an AsyncLocalStorage
 * context per page (what `import { db }` needs). On a shared machine CPU time per page is steadier
 * than req/s; PostgreSQL's (the whole server's) is reported too.
 * `node benchmarks/dist/hot-path.js [--route page|write] [--pages N] [--rounds N] [--only "variant name,variant name"]`
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startPostgres } from 'pcluster/postgres';
import { postmasterPid } from './cleanup.js';
import { treeCpuMs } from './process-tree.js';
import { median } from './summary.js';
import { ACCOUNT_ROWS, seed } from './seed.js';
import { openStatementPath } from './statement-path.js';

const SELECT = 'SELECT id, name, balance FROM bench_accounts WHERE id = $1';
const UPDATE = 'UPDATE bench_accounts SET balance = balance + 1 WHERE id = $1';
const INSERT = 'INSERT INTO bench_history (account, delta) VALUES ($1, 1)';
const CONCURRENCY = 16;
const randomId = (): number => 1 + Math.floor(Math.random() * ACCOUNT_ROWS);

type Page = () => Promise<unknown[]>;

/** A bare client: statements take turns through a promise chain, named prepared statements. */
async function barePage(connectionString: string): Promise<{ page: Page; close: () => Promise<void> }> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  let tail: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(use: () => Promise<T>): Promise<T> => {
    const turn = tail.then(use);
    tail = turn.catch(() => {});
    return turn;
  };
  const select = (): Promise<pg.QueryResult> => inTurn(() => client.query({ name: 'hot_path_select', text: SELECT, values: [randomId()] }));
  // A transaction takes its turn whole, as the hand-rolled contender's does.
  const write = (): Promise<unknown[]> => inTurn(async () => {
    await client.query('BEGIN');
    try {
      await client.query({ name: 'hot_path_update', text: UPDATE, values: [randomId()] });
      await client.query({ name: 'hot_path_insert', text: INSERT, values: [randomId()] });
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
    return [];
  });
  return {
    page: route === 'write' ? write : async () => [(await select()).rows[0], (await select()).rows[0], (await select()).rows[0]],
    close: () => client.end(),
  };
}

/** pcluster's path, wired as a worker wires it (metrics included): one DbSession per page. */
async function pclusterPage(connectionString: string): Promise<{ page: Page; close: () => Promise<void> }> {
  const { pipeline, openSession, close } = await openStatementPath(connectionString, 'pcluster:hot-path');
  return {
    page: async () => {
      const db = openSession(`GET /${route}`);
      try {
        if (route === 'write') {
          await db.transaction(async (tx) => {
            await tx.query(UPDATE, [randomId()]);
            await tx.query(INSERT, [randomId()]);
          });
          return [];
        }
        return [(await db.query(SELECT, [randomId()])).rows[0], (await db.query(SELECT, [randomId()])).rows[0], (await db.query(SELECT, [randomId()])).rows[0]];
      } finally {
        pipeline.endSession(db);
      }
    },
    close,
  };
}

const { values } = parseArgs({ options: { route: { type: 'string' }, pages: { type: 'string' }, rounds: { type: 'string' }, only: { type: 'string' } } });
const route = values.route ?? 'page';
if (route !== 'page' && route !== 'write') {
  console.error(`--route: "${route}" is not page or write`);
  process.exit(2);
}
const pages = Number(values.pages ?? 20_000);
const rounds = Number(values.rounds ?? 5);
const storage = new AsyncLocalStorage<object>();
const allVariants = [
  { name: 'bare pg.Client', open: barePage, withContext: false },
  { name: 'bare pg.Client + AsyncLocalStorage', open: barePage, withContext: true },
  { name: 'pcluster statement path (req.db)', open: pclusterPage, withContext: false },
  { name: 'pcluster statement path (import { db }: + AsyncLocalStorage)', open: pclusterPage, withContext: true },
];
const only = values.only?.split(',');
const unknown = only?.filter((name) => !allVariants.some((v) => v.name === name)) ?? [];
if (unknown.length > 0) {
  console.error(`--only: no variant named ${unknown.map((name) => `"${name}"`).join(', ')}; the variants are: ${allVariants.map((v) => `"${v.name}"`).join(', ')}`);
  process.exit(2);
}
const variants = allVariants.filter((v) => only === undefined || only.includes(v.name));

const server = await startPostgres({ maxConnections: 20 });
try {
  await seed(server.connectionString);
  const samples = new Map<string, { user: number; system: number; server: number; rate: number }[]>();
  const postmaster = postmasterPid(server);
  // Variants alternate round by round. AsyncLocalStorage turns Node's async hooks on for every promise
  // in the process; disable() after its rounds turns them off again, so the bare rounds run without them.
  for (let round = 1; round <= rounds; round++) {
    for (const variant of variants) {
      const { page, close } = await variant.open(server.connectionString);
      const run = variant.withContext ? (): Promise<unknown[]> => storage.run({}, page) : page;
      /** `count` pages, CONCURRENCY at a time, like a worker's concurrent requests. */
      const runPages = async (count: number): Promise<void> => {
        let started = 0;
        await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
          while (started < count) {
            started += 1;
            await run();
          }
        }));
      };
      await runPages(pages / 10); // warm-up: JIT, prepared statements, buffers
      const serverCpuMs = await treeCpuMs(postmaster);
      const cpu = process.cpuUsage();
      const startedAt = performance.now();
      await runPages(pages);
      const used = process.cpuUsage(cpu);
      const serverUsedMs = (await treeCpuMs(postmaster)) - serverCpuMs;
      const seconds = (performance.now() - startedAt) / 1000;
      await close();
      if (variant.withContext) storage.disable();
      const sample = { user: used.user / pages, system: used.system / pages, server: (serverUsedMs * 1000) / pages, rate: pages / seconds };
      samples.set(variant.name, [...(samples.get(variant.name) ?? []), sample]);
      console.log(`round ${round}  ${variant.name.padEnd(60)} ${sample.rate.toFixed(0).padStart(6)} pages/s  CPU/page user ${sample.user.toFixed(1)} µs, system ${sample.system.toFixed(1)} µs, PostgreSQL ${sample.server.toFixed(1)} µs`);
    }
  }
  console.log(`\nmedians over ${rounds} rounds of ${pages} pages, ${CONCURRENCY} concurrent:`);
  for (const [name, runs] of samples) {
    console.log(`${name.padEnd(60)} ${median(runs.map((r) => r.rate)).toFixed(0).padStart(6)} pages/s  CPU/page user ${median(runs.map((r) => r.user)).toFixed(1)} µs, system ${median(runs.map((r) => r.system)).toFixed(1)} µs, PostgreSQL ${median(runs.map((r) => r.server)).toFixed(1)} µs`);
  }
} finally {
  await server.destroy();
}
