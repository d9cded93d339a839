#!/usr/bin/env node
import os from 'node:os';
import { existsSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfigFile, loadEnvFiles, resolveEnvFiles, resolveStartOptions, UsageError, type RawStartFlags } from './options/index.js';
import { runControlCommand } from './control-commands.js';
import { runStart } from './run-start.js';

const EXIT_USAGE = 2;

function fail(error: unknown): never {
  const isUsage = error instanceof UsageError;
  process.stderr.write(`pcluster: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(isUsage ? EXIT_USAGE : 1);
}

const START_FLAGS = {
  workers: { alias: 'w', type: 'string', describe: 'worker count, or "auto" (= available CPUs)' },
  port: { alias: 'p', type: 'string', describe: 'HTTP port shared by all workers (env PORT; default 3000)' },
  host: { type: 'string', describe: 'HTTP bind address (default 0.0.0.0)' },
  'database-url': { type: 'string', describe: 'where to connect, for example postgres://user:password@host:port/db (env DATABASE_URL; default: libpq PG* env)' },
  'embedded-postgres': { type: 'string', describe: 'start a local PostgreSQL owned by pcluster (optional data dir)' },
  'metrics-port': { type: 'string', describe: 'Prometheus and health endpoints port (default 9091)' },
  'metrics-host': { type: 'string', describe: 'metrics bind address (default 127.0.0.1)' },
  'max-requests': { type: 'string', describe: 'recycle a worker after n requests (0 = off)' },
  'max-requests-jitter': { type: 'string', describe: 'add random 0..n to each worker\'s max-requests' },
  'max-memory': { type: 'string', describe: 'recycle a worker whose RSS exceeds this size (512MB)' },
  'max-age': { type: 'string', describe: 'recycle a worker older than this (6h; at least 10s; 0 = off)' },
  timeout: { type: 'string', describe: 'replace a worker whose event loop does not answer for this long (30s; at least 1s; a bare number is seconds)' },
  'graceful-timeout': { type: 'string', describe: 'drain time for in-flight requests before SIGKILL (30s)' },
  'max-connections': { type: 'string', describe: 'hard cap on database connections (default workers + 1)' },
  'lease-timeout': { type: 'string', describe: 'max wait for the worker\'s connection before 503 (5s)' },
  'validate-after': { type: 'string', describe: 'ping a connection idle longer than this before use (1s)' },
  'validation-timeout': { type: 'string', describe: 'ping deadline (2s)' },
  'connection-max-age': { type: 'string', describe: 'replace a worker\'s connection after this age (30m)' },
  'leak-threshold': { type: 'string', describe: 'warn when a request holds a transaction longer (10s)' },
  session: { type: 'string', array: true, describe: 'session setting applied on every connect (key=value, repeatable)' },
  prepare: { type: 'string', describe: 'auto | off: prepare repeated queries as named statements (auto)' },
  'pipeline-depth': { type: 'string', describe: 'statements in flight on a worker\'s connection, 1 = one at a time (32)' },
  'pg-compat': { type: 'string', describe: 'on | off: the app\'s own pg runs on the worker\'s connection (on)' },
  'env-file': { type: 'string', array: true, nargs: 1, describe: 'load environment variables from this file first; the environment wins (repeatable)' },
  'wait-for-db': { type: 'string', describe: 'keep retrying an unreachable database this long at start (0)' },
  name: { type: 'string', describe: 'instance name (default: the app file\'s base name)' },
  config: { type: 'string', describe: 'JSON, .js or .mjs file with the same keys as these flags' },
  'app-name': { type: 'string', describe: 'PostgreSQL application_name prefix (default pcluster:<name>)' },
  'log-format': { type: 'string', describe: 'pretty | json (default: pretty on a TTY)' },
  'node-arg': { type: 'string', array: true, describe: 'argument for worker node processes (repeatable)' },
  'control-socket': { type: 'string', describe: 'control socket path (default ./.pcluster/<name>.sock)' },
} as const;

async function start(argv: Record<string, unknown>): Promise<void> {
  const cwd = process.cwd();
  const { app, config, ...rest } = argv;
  const flags: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (value === undefined || key.includes('-') || key.length === 1 || key === '_' || key === '$0') continue;
    flags[key] = key === 'embeddedPostgres' && value === '' ? true : value;
  }
  // --env-file comes before anything else, the config file included (which may read process.env).
  const early = resolveEnvFiles({ flags: flags as RawStartFlags, fileConfig: undefined, cwd });
  loadEnvFiles(early, process.env);
  const fileConfig = typeof config === 'string' ? await loadConfigFile(config, cwd) : undefined;
  if (early.files.length === 0 && typeof config === 'string') {
    loadEnvFiles(resolveEnvFiles({ flags: flags as RawStartFlags, fileConfig, configPath: config, cwd }), process.env);
  }
  const options = resolveStartOptions({
    app: typeof app === 'string' ? app : undefined,
    flags: flags as RawStartFlags,
    env: process.env,
    fileConfig,
    ...(typeof config === 'string' ? { configPath: config } : {}),
    cwd,
    isTTY: process.stdout.isTTY === true,
    availableParallelism: os.availableParallelism(),
    fileExists: existsSync,
    execArgv: process.execArgv,
  });
  process.exitCode = await runStart(options);
}

const CONTROL_FLAGS = {
  name: { type: 'string', describe: 'the cluster\'s name (default: the only one running from this directory)' },
  'control-socket': { type: 'string', describe: 'control socket path (default ./.pcluster/<name>.sock)' },
} as const;

const RELOAD_FLAGS = {
  ...CONTROL_FLAGS,
  wait: { type: 'boolean', describe: 'return when every worker runs the new generation; exit 1 naming the error when it cannot boot' },
} as const;
const STOP_FLAGS = { ...CONTROL_FLAGS, wait: { type: 'boolean', describe: 'return when the primary has exited' } } as const;

function controlTarget(argv: Record<string, unknown>): { name?: string; controlSocket?: string } {
  return {
    ...(typeof argv['name'] === 'string' ? { name: argv['name'] } : {}),
    ...(typeof argv['controlSocket'] === 'string' ? { controlSocket: argv['controlSocket'] } : {}),
  };
}

function buildCli(args: string[]): Argv {
  return yargs(args)
    .scriptName('pcluster')
    .usage('$0 <command> [options]')
    .command('start <app>', 'run the cluster in the foreground', (y) => y.positional('app', { type: 'string', describe: 'handler module' }).options(START_FLAGS).strict(), (argv) =>
      start(argv as Record<string, unknown>),
    )
    .command('status', 'table of workers (from the control socket)', (y) => y.options({ ...CONTROL_FLAGS, json: { type: 'boolean', describe: 'print JSON' } }).strict(), async (argv) => {
      process.exitCode = await runControlCommand({ command: 'status' }, controlTarget(argv), argv.json === true);
    })
    .command('reload', 'zero-downtime rolling restart of every worker', (y) => y.options(RELOAD_FLAGS).strict(), async (argv) => {
      process.exitCode = await runControlCommand({ command: 'reload', ...(argv.wait === true ? { wait: true } : {}) }, controlTarget(argv), false);
    })
    .command('scale <n>', 'change the number of workers at run time', (y) => y.positional('n', { type: 'string', describe: 'worker count' }).options(CONTROL_FLAGS).strict(), async (argv) => {
      const workers = /^\d+$/.test(String(argv.n)) ? Number(argv.n) : NaN;
      if (!(workers >= 1)) throw new UsageError(`scale: "${String(argv.n)}" is not valid; expected a whole number >= 1`);
      process.exitCode = await runControlCommand({ command: 'scale', workers }, controlTarget(argv), false);
    })
    .command('stop', 'graceful stop', (y) => y.options(STOP_FLAGS).strict(), async (argv) => {
      process.exitCode = await runControlCommand({ command: 'stop', ...(argv.wait === true ? { wait: true } : {}) }, controlTarget(argv), false);
    })
    .demandCommand(1, 'name a command: start, status, reload, scale or stop')
    .strict()
    .help()
    .version(false)
    .exitProcess(false)
    .fail((message, error) => {
      if (error !== undefined && error !== null) fail(error);
      fail(new UsageError(`${message} (see pcluster --help)`));
    });
}

buildCli(hideBin(process.argv))
  .parseAsync()
  .catch(fail);
