#!/usr/bin/env node
import os from 'node:os';
import { createRequire } from 'node:module';
import { existsSync, statSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfigFile, loadEnvFiles, resolveChdir, resolveEnvFiles, resolveStartOptions, UsageError, type RawStartFlags } from './options/index.js';
import { runControlCommand } from './control-commands.js';
import { daemonize, isDaemonChild } from './daemon.js';
import { suggestFlag } from './flag-suggestion.js';
import { runList } from './list-clusters.js';
import { runLogs } from './logs-command.js';
import { runStart } from './run-start.js';

const EXIT_USAGE = 2;

function fail(error: unknown): never {
  const isUsage = error instanceof UsageError;
  process.stderr.write(`pcluster: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(isUsage ? EXIT_USAGE : 1);
}

const START_FLAGS = {
  workers: { alias: 'w', type: 'string', describe: 'worker count, or "auto" (= available CPUs)', defaultDescription: 'auto' },
  port: { alias: 'p', type: 'string', describe: 'HTTP port shared by all workers (env PORT)', defaultDescription: '3000' },
  host: { type: 'string', describe: 'HTTP bind address', defaultDescription: '0.0.0.0' },
  'database-url': { type: 'string', describe: 'where to connect, for example postgres://user:password@host:port/db (env DATABASE_URL)', defaultDescription: 'PG* env, else the app\'s pg config' },
  'embedded-postgres': { type: 'string', describe: 'start a local PostgreSQL owned by pcluster; given a data dir, it is kept', defaultDescription: 'off' },
  'metrics-port': { type: 'string', describe: 'Prometheus and health endpoints port', defaultDescription: '9091' },
  'metrics-host': { type: 'string', describe: 'metrics bind address', defaultDescription: '127.0.0.1' },
  'max-requests': { type: 'string', describe: 'recycle a worker after n requests (0 = off)', defaultDescription: '0' },
  'max-requests-jitter': { type: 'string', describe: 'add random 0..n to each worker\'s max-requests', defaultDescription: '0' },
  'max-memory': { type: 'string', describe: 'recycle a worker whose RSS exceeds this size, e.g. 512MB', defaultDescription: 'off' },
  'max-age': { type: 'string', describe: 'recycle a worker older than this, e.g. 6h (at least 10s; 0 = off)', defaultDescription: 'off' },
  timeout: { type: 'string', describe: 'replace a worker whose event loop does not answer for this long (at least 1s; a bare number is seconds)', defaultDescription: '30s' },
  'graceful-timeout': { type: 'string', describe: 'drain time for in-flight requests before SIGKILL', defaultDescription: '30s' },
  'max-connections': { type: 'string', describe: 'hard cap on database connections', defaultDescription: 'workers + 1' },
  'lease-timeout': { type: 'string', describe: 'max wait for the worker\'s connection before 503', defaultDescription: '5s' },
  'validate-after': { type: 'string', describe: 'ping a connection idle longer than this before use', defaultDescription: '1s' },
  'validation-timeout': { type: 'string', describe: 'ping deadline', defaultDescription: '2s' },
  'connection-max-age': { type: 'string', describe: 'replace a worker\'s connection after this age', defaultDescription: '30m' },
  'leak-threshold': { type: 'string', describe: 'warn when a request holds a transaction longer', defaultDescription: '10s' },
  session: { type: 'string', array: true, describe: 'session setting applied on every connect, e.g. statement_timeout=5s (repeatable)', defaultDescription: 'none' },
  prepare: { type: 'string', describe: 'auto | off: prepare repeated queries as named statements', defaultDescription: 'auto' },
  'pipeline-depth': { type: 'string', describe: 'statements in flight on a worker\'s connection, 1 = one at a time', defaultDescription: '32' },
  'pg-compat': { type: 'string', describe: 'on | off: the app\'s own pg runs on the worker\'s connection', defaultDescription: 'on' },
  'env-file': { type: 'string', array: true, nargs: 1, describe: 'load environment variables from this file first, e.g. .env; the environment wins (repeatable)', defaultDescription: 'none' },
  'wait-for-db': { type: 'string', describe: 'keep retrying an unreachable database this long at start', defaultDescription: '0' },
  name: { type: 'string', describe: 'instance name', defaultDescription: 'the app file\'s base name' },
  config: { type: 'string', describe: 'JSON, .js or .mjs file with the same keys as these flags', defaultDescription: 'none' },
  'app-name': { type: 'string', describe: 'PostgreSQL application_name prefix', defaultDescription: 'pcluster:<name>' },
  'log-format': { type: 'string', describe: 'pretty | json', defaultDescription: 'pretty on a TTY, else json' },
  'node-arg': { type: 'string', array: true, describe: 'argument for worker node processes, e.g. --import=tsx (repeatable)', defaultDescription: 'none' },
  'control-socket': { type: 'string', describe: 'control socket path', defaultDescription: './.pcluster/<name>.sock' },
  user: { type: 'string', describe: 'workers run as this user (needs root; the primary keeps its own)', defaultDescription: 'unchanged' },
  group: { type: 'string', describe: 'workers run as this group', defaultDescription: 'the --user\'s own group' },
  'access-log': { type: 'string', nargs: 1, describe: 'one line per request to this file, or - for the log stream (combined format; JSON with --log-format json)', defaultDescription: 'off' },
  bind: { type: 'string', describe: 'unix:<path>: serve on a Unix socket instead of --host/--port', defaultDescription: 'none' },
  chdir: { type: 'string', describe: 'change to this directory before loading the app (and resolving relative paths but --config)', defaultDescription: 'none' },
  daemon: { type: 'boolean', describe: 'detach once every worker is ready; logs go to --log-file', defaultDescription: 'off' },
  'log-file': { type: 'string', describe: 'log to this file, reopened on SIGUSR1', defaultDescription: 'stdout; with --daemon ./.pcluster/<name>.log' },
  pid: { type: 'string', describe: 'write the primary\'s pid to this file (removed at stop)', defaultDescription: 'none' },
  'keepalive-timeout': { type: 'string', describe: 'drop a database peer silent this long (a partition), on both ends (at least 2s)', defaultDescription: '60s' },
  pooler: { type: 'string', describe: 'none | transaction: behind PgBouncer in transaction pooling mode', defaultDescription: 'none' },
} as const;

const isDirectory = (dir: string): boolean => statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true;

async function start(argv: Record<string, unknown>): Promise<void> {
  const isDetached = isDaemonChild();
  const startDir = process.cwd();
  const { app, config, ...rest } = argv;
  const flags: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (value === undefined || key.includes('-') || key.length === 1 || key === '_' || key === '$0') continue;
    flags[key] = key === 'embeddedPostgres' && value === '' ? true : value;
  }
  // --chdir first (as gunicorn's): every relative path but --config's is read from there.
  const chdirFlag = resolveChdir({ flags: flags as RawStartFlags, fileConfig: undefined, cwd: startDir, isDirectory });
  if (chdirFlag !== undefined) process.chdir(chdirFlag);
  // --env-file comes before anything else, the config file included (which may read process.env).
  const early = resolveEnvFiles({ flags: flags as RawStartFlags, fileConfig: undefined, cwd: process.cwd() });
  loadEnvFiles(early, process.env);
  const fileConfig = typeof config === 'string' ? await loadConfigFile(config, startDir) : undefined;
  const chdir = resolveChdir({ flags: flags as RawStartFlags, fileConfig, ...(typeof config === 'string' ? { configPath: config } : {}), cwd: startDir, isDirectory });
  if (chdir !== undefined) process.chdir(chdir);
  const cwd = process.cwd();
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
  process.exitCode = options.daemon && !isDetached ? await daemonize(options, startDir) : await runStart(options);
}

const CONTROL_FLAGS = {
  name: { type: 'string', describe: 'the cluster\'s name', defaultDescription: 'the only one running from this directory' },
  'control-socket': { type: 'string', describe: 'control socket path', defaultDescription: './.pcluster/<name>.sock' },
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

const STATUS_FLAGS = { ...CONTROL_FLAGS, json: { type: 'boolean', describe: 'print JSON' } } as const;

const LS_FLAGS = { json: { type: 'boolean', describe: 'print JSON' } } as const;
const LOGS_FLAGS = {
  ...CONTROL_FLAGS,
  follow: { alias: 'f', type: 'boolean', describe: 'keep printing new lines (across a log rotation), until Ctrl-C' },
  lines: { type: 'string', describe: 'how many of the last lines to print first', defaultDescription: '15' },
} as const;

/** Each command's flags (long names and aliases), for "did you mean" on a mistyped one; a command not listed is checked against all of them. */

const COMMAND_FLAGS: Readonly<Record<string, object>> = {
  start: START_FLAGS, status: STATUS_FLAGS, ls: LS_FLAGS, logs: LOGS_FLAGS, reload: RELOAD_FLAGS, scale: CONTROL_FLAGS, stop: STOP_FLAGS,
};

function knownFlags(command: string | undefined): string[] {
  const tables = command !== undefined && command in COMMAND_FLAGS ? [COMMAND_FLAGS[command]!] : Object.values(COMMAND_FLAGS);
  const names = tables.flatMap((table) => Object.entries(table).flatMap(([name, option]) => [name, ...[(option as { alias?: string }).alias ?? []].flat()]));
  return [...names, 'help', 'version'];
}

const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

function buildCli(args: string[]): Argv {
  /** The command yargs matched, seen by a middleware that runs before validation: undefined when the first word names no command. */
  let matched: string | undefined;
  return yargs(args)
    .scriptName('pcluster')
    .usage('$0 <command> [options]')
    .command('start <app>', 'run the cluster (in the foreground; --daemon to detach)', (y) => y.positional('app', { type: 'string', describe: 'handler module' }).options(START_FLAGS).strict(), (argv) =>
      start(argv as Record<string, unknown>),
    )
    .command('status', 'table of workers (from the control socket)', (y) => y.options(STATUS_FLAGS).strict(), async (argv) => {
      process.exitCode = await runControlCommand({ command: 'status' }, controlTarget(argv), argv.json === true);
    })
    .command('ls', 'every cluster running on this host for this user, any directory', (y) => y.options(LS_FLAGS).strict(), async (argv) => {
      process.exitCode = await runList(argv.json === true);
    })
    .command('logs', 'the log file of a daemonized cluster', (y) => y.options(LOGS_FLAGS).strict(), async (argv) => {
      const lines = argv.lines === undefined ? 15 : /^\d+$/.test(argv.lines) ? Number(argv.lines) : NaN;
      if (Number.isNaN(lines)) throw new UsageError(`--lines: "${String(argv.lines)}" is not valid; expected a whole number >= 0`);
      process.exitCode = await runLogs(controlTarget(argv), lines, argv.follow === true);
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
    .middleware((argv) => {
      matched = typeof argv._[0] === 'string' ? argv._[0] : undefined;
    }, true)
    .demandCommand(1, 'name a command: start, status, ls, logs, reload, scale or stop')
    .recommendCommands()
    .strict()
    .help()
    .version(VERSION)
    .alias('version', 'v')
    .exitProcess(false)
    .fail((message, error) => {
      if (error !== undefined && error !== null) fail(error);
      // recommendCommands' "Did you mean …?" comes before any middleware ran; an unknown word yargs names is no command either.
      const first = args[0];
      if (first !== undefined && !first.startsWith('-') && !(first in COMMAND_FLAGS) && (matched === undefined || message.includes(first))) {
        fail(new UsageError(`unknown command "${first}"${matched === undefined ? `: ${message}` : ''} (see pcluster --help)`));
      }
      const suggestion = suggestFlag(args, knownFlags(matched));
      fail(new UsageError(`${message}${suggestion === undefined ? '' : `; ${suggestion}`} (see pcluster ${matched === undefined ? '' : `${matched} `}--help)`));
    });
}

buildCli(hideBin(process.argv))
  .parseAsync()
  .catch(fail);
