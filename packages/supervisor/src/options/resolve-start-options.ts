import path from 'node:path';
import type { StartOptions } from '../start-options.js';
import {
  parseBind, parseBoolean, parseChoice, parseDuration, parseInteger, parseSession, parseSize, parseString, parseStringList, parseWorkers, type Source,
} from './parse-values.js';
import { parseDatabaseUrl } from './database-url.js';
import { isDatabaseNamedByEnvironment } from './libpq-environment.js';
import type { EnvFiles } from './load-env-files.js';
import { typescriptLoaderArgs, type ResolveFrom } from './typescript-loader.js';
import { UsageError } from './usage-error.js';

/** The flags of `pcluster start` as yargs delivers them (camelCase, strings; arrays for repeatables). */
export interface RawStartFlags {
  readonly workers?: string;
  readonly port?: string;
  readonly host?: string;
  readonly databaseUrl?: string;
  readonly embeddedPostgres?: string | boolean;
  readonly metricsPort?: string;
  readonly metricsHost?: string;
  readonly maxRequests?: string;
  readonly maxRequestsJitter?: string;
  readonly maxMemory?: string;
  readonly maxAge?: string;
  readonly timeout?: string;
  readonly gracefulTimeout?: string;
  readonly maxConnections?: string;
  readonly leaseTimeout?: string;
  readonly validateAfter?: string;
  readonly validationTimeout?: string;
  readonly connectionMaxAge?: string;
  readonly leakThreshold?: string;
  readonly session?: readonly string[];
  readonly prepare?: string;
  readonly pipelineDepth?: string;
  readonly pgCompat?: string;
  readonly pooler?: string;
  readonly envFile?: readonly string[];
  readonly waitForDb?: string;
  readonly keepaliveTimeout?: string;
  readonly name?: string;
  readonly appName?: string;
  readonly logFormat?: string;
  readonly nodeArg?: readonly string[];
  readonly controlSocket?: string;
  readonly user?: string;
  readonly group?: string;
  readonly accessLog?: string;
  readonly bind?: string;
  readonly chdir?: string;
  readonly daemon?: boolean | string;
  readonly logFile?: string;
  readonly pid?: string;
}
type FlagKey = keyof RawStartFlags;

/** More statements in flight than this only queue inside the server's socket buffer, where no lease timeout reaches them. */
const MAX_PIPELINE_DEPTH = 1024;

/** A worker must answer a heartbeat within --timeout (SPEC §1); shorter, a busy moment or a GC pause would kill it. */
const MIN_TIMEOUT_MS = 1_000;
/** A worker is hardly booted at this age (a dying one counts as failing its boot, decide.ts): recycling it sooner would keep the cluster booting. */
const MIN_MAX_AGE_MS = 10_000;

const atLeast = (minMs: number) => (value: unknown, source: Source): number => parseDuration(value, source, minMs);
/** --max-age: 0 is off, as --max-requests 0 is. */
const maxAge = (value: unknown, source: Source): number | undefined => (parseDuration(value, source) === 0 ? undefined : parseDuration(value, source, MIN_MAX_AGE_MS));

/** Flags that may come from the environment (SPEC §1): only these two. */
const ENV: Partial<Record<FlagKey, string>> = { port: 'PORT', databaseUrl: 'DATABASE_URL' };

const FLAG_KEYS: readonly FlagKey[] = [
  'workers', 'port', 'host', 'databaseUrl', 'embeddedPostgres', 'metricsPort', 'metricsHost', 'maxRequests', 'maxRequestsJitter',
  'maxMemory', 'maxAge', 'timeout', 'gracefulTimeout', 'maxConnections', 'leaseTimeout', 'validateAfter', 'validationTimeout',
  'connectionMaxAge', 'leakThreshold', 'session', 'prepare', 'pipelineDepth', 'pgCompat', 'pooler', 'envFile', 'waitForDb', 'keepaliveTimeout', 'name', 'appName', 'logFormat', 'nodeArg', 'controlSocket',
  'user', 'group', 'accessLog', 'bind', 'chdir',
  'daemon', 'logFile', 'pid',
];

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (key: string): string => key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export interface ResolveInput {
  readonly app: string | undefined;
  readonly flags: RawStartFlags;
  readonly env: NodeJS.ProcessEnv;
  /** The parsed --config file and its path (for messages). */
  readonly fileConfig: Readonly<Record<string, unknown>> | undefined;
  readonly configPath?: string;
  readonly cwd: string;
  readonly isTTY: boolean;
  readonly availableParallelism: number;
  readonly fileExists: (path: string) => boolean;
  /** The primary's own node options, which the workers inherit (a loader given there counts as the user's choice). */
  readonly execArgv?: readonly string[];
  /** How `tsx` is looked up from a TypeScript app (default: as `require()` from the app file). */
  readonly resolveFrom?: ResolveFrom;
}

/** The config file's values by flag key, each with the key as the file spells it; an unknown key is a usage error naming it and the file. */
function normaliseFileConfig(file: Readonly<Record<string, unknown>>, configPath: string): Map<FlagKey, { value: unknown; key: string }> {
  const known = new Set<string>(FLAG_KEYS);
  const config = new Map<FlagKey, { value: unknown; key: string }>();
  for (const [key, value] of Object.entries(file)) {
    const name = camel(key) === 'nodeArgs' ? 'nodeArg' : camel(key);
    if (!known.has(name)) {
      throw new UsageError(`${configPath}: unknown key "${key}"; use the names of the start flags (e.g. "workers", "max-requests")`);
    }
    config.set(name as FlagKey, { value, key });
  }
  return config;
}

type PickInput = Pick<ResolveInput, 'flags' | 'env' | 'fileConfig' | 'configPath'>;

/** The winning raw value of each flag (flag > environment > config file) and a name for it in messages. */
function picker(input: PickInput): (key: FlagKey) => [unknown, Source] | undefined {
  const configPath = input.configPath ?? 'config file';
  const file = input.fileConfig === undefined ? new Map<FlagKey, { value: unknown; key: string }>() : normaliseFileConfig(input.fileConfig, configPath);
  return (key) => {
    const flag = input.flags[key];
    if (flag !== undefined && !(Array.isArray(flag) && flag.length === 0)) return [flag, `--${kebab(key)}`];
    const envName = ENV[key];
    const envValue = envName === undefined ? undefined : input.env[envName];
    if (envValue !== undefined && envValue !== '') return [envValue, `${envName} (environment)`];
    const fromFile = file.get(key);
    return fromFile === undefined ? undefined : [fromFile.value, `"${fromFile.key}" in ${configPath}`];
  };
}

/** `--env-file` (the flags' files, else the config file's) as absolute paths: loaded before the other options are resolved. */
export function resolveEnvFiles(input: Omit<PickInput, 'env'> & { readonly cwd: string }): EnvFiles {
  const found = picker({ ...input, env: {} })('envFile');
  return found === undefined ? { files: [], source: '--env-file' } : { files: parseStringList(found[0], found[1]).map((file) => path.resolve(input.cwd, file)), source: found[1] };
}

/**
 * `--chdir` (flag > config file) as an absolute path from `cwd`, or undefined; a usage error when it is not a
 * directory. As in gunicorn, the directory changes before the app and every other relative path is resolved.
 */
export function resolveChdir(input: Omit<PickInput, 'env'> & { readonly cwd: string; readonly isDirectory: (path: string) => boolean }): string | undefined {
  const found = picker({ ...input, env: {} })('chdir');
  if (found === undefined) return undefined;
  const dir = path.resolve(input.cwd, parseString(found[0], found[1]));
  if (!input.isDirectory(dir)) throw new UsageError(`${found[1]}: ${dir} is not a directory; give the directory to load the app from`);
  return dir;
}

/**
 * Session settings go with a connection, and behind a transaction pooler the next transaction runs on
 * any of the pooler's server connections (PgBouncer also refuses the startup packet's `options`): the
 * role's own settings are what every one of them starts with.
 */
function refuseSessionBehindPooler(session: Readonly<Record<string, string>>, source: Source | undefined): void {
  const [key, value] = Object.entries(session)[0] ?? [];
  if (key === undefined) return;
  throw new UsageError(
    `${source ?? '--session'}: not with --pooler transaction (the pooler's server connections would not keep it); set it on the role instead: ALTER ROLE <user> SET ${key} = '${value}'`,
  );
}

/**
 * Resolves `pcluster start` options: flag > environment > config file > default, each value
 * validated with a one-line UsageError naming where it came from and what is accepted.
 */
export function resolveStartOptions(input: ResolveInput): StartOptions {
  const pick = picker(input);
  const get = <T>(key: FlagKey, parse: (value: unknown, source: Source) => T, fallback: T): T => {
    const found = pick(key);
    return found === undefined ? fallback : parse(found[0], found[1]);
  };
  const optional = <T>(key: FlagKey, parse: (value: unknown, source: Source) => T): T | undefined => {
    const found = pick(key);
    return found === undefined ? undefined : parse(found[0], found[1]);
  };

  if (input.app === undefined || input.app === '') throw new UsageError('missing the app: pcluster start <app.js> [options]');
  const appPath = path.resolve(input.cwd, input.app);
  if (!input.fileExists(appPath)) throw new UsageError(`app file not found: ${input.app} (resolved to ${appPath})`);

  const workers = get('workers', (v, s) => parseWorkers(v, s, input.availableParallelism), Math.max(1, input.availableParallelism));
  const name = get('name', parseString, path.basename(appPath).replace(/\.[^.]+$/, ''));
  const maxConnections = get('maxConnections', (v, s) => parseInteger(v, s, 1), workers + 1);
  if (maxConnections < workers) {
    throw new UsageError(`--max-connections: ${maxConnections} is below --workers ${workers}; each worker needs one connection, so use at least ${workers}`);
  }
  const embedded = pick('embeddedPostgres');
  const embeddedPostgres =
    embedded === undefined || embedded[0] === false ? undefined
    : embedded[0] === true || embedded[0] === '' ? null
    : path.resolve(input.cwd, parseString(embedded[0], embedded[1]));
  if (embeddedPostgres !== undefined && input.flags.databaseUrl !== undefined) {
    throw new UsageError('--embedded-postgres and --database-url both name a database; give only one');
  }
  const port = (v: unknown, s: Source): number => parseInteger(v, s, 1, 65535);
  const databaseUrl = embeddedPostgres === undefined ? optional('databaseUrl', parseDatabaseUrl) : undefined;
  const nodeArgs = get('nodeArg', parseStringList, []);
  const bind = optional('bind', parseBind);
  for (const key of ['port', 'host'] as const) {
    const given = pick(key);
    if (bind !== undefined && given !== undefined && given[1] !== `${ENV[key] ?? ''} (environment)`) {
      throw new UsageError(`--bind unix:${bind} and ${given[1]} both say where to serve; give only one`);
    }
  }
  const accessLog = optional('accessLog', parseString);
  const controlSocket = path.resolve(input.cwd, get('controlSocket', parseString, path.join('.pcluster', `${name}.sock`)));
  const daemon = get('daemon', parseBoolean, false);
  // Detached, the log must go somewhere: beside the control socket, where `pcluster logs` looks.
  const logFileGiven = optional('logFile', parseString);
  const logFile = logFileGiven !== undefined ? path.resolve(input.cwd, logFileGiven) : daemon ? path.join(path.dirname(controlSocket), `${name}.log`) : undefined;
  const pidFile = optional('pid', parseString);
  const inheritedNodeArgs = [...(input.execArgv ?? []), ...(input.env['NODE_OPTIONS'] ?? '').split(/\s+/)];
  const pooler = get('pooler', (v, s) => parseChoice(v, s, ['none', 'transaction'] as const), 'none');
  const session = get('session', parseSession, {});
  if (pooler === 'transaction') refuseSessionBehindPooler(session, pick('session')?.[1]);

  return {
    appPath,
    name,
    workers,
    port: get('port', port, 3000),
    host: get('host', parseString, '0.0.0.0'),
    isPortExplicit: pick('port') !== undefined,
    isHostExplicit: pick('host') !== undefined,
    databaseUrl,
    embeddedPostgres,
    isDatabaseConfigured: databaseUrl !== undefined || embeddedPostgres !== undefined || isDatabaseNamedByEnvironment(input.env),
    pgCompat: get('pgCompat', (v, s) => parseChoice(v, s, ['on', 'off'] as const), 'on'),
    envFiles: resolveEnvFiles(input).files,
    metricsPort: get('metricsPort', port, 9091),
    metricsHost: get('metricsHost', parseString, '127.0.0.1'),
    maxRequests: get('maxRequests', (v, s) => parseInteger(v, s, 0), 0),
    maxRequestsJitter: get('maxRequestsJitter', (v, s) => parseInteger(v, s, 0), 0),
    maxMemoryBytes: optional('maxMemory', parseSize),
    maxAgeMs: optional('maxAge', maxAge),
    timeoutMs: get('timeout', atLeast(MIN_TIMEOUT_MS), 30_000),
    gracefulTimeoutMs: get('gracefulTimeout', parseDuration, 30_000),
    maxConnections,
    isMaxConnectionsExplicit: pick('maxConnections') !== undefined,
    leaseTimeoutMs: get('leaseTimeout', atLeast(1), 5_000), // 0 would answer 503 to every statement that waits at all
    validateAfterMs: get('validateAfter', parseDuration, 1_000),
    validationTimeoutMs: get('validationTimeout', atLeast(1), 2_000), // 0 would destroy every connection it pings
    connectionMaxAgeMs: get('connectionMaxAge', parseDuration, 30 * 60_000),
    leakThresholdMs: get('leakThreshold', parseDuration, 10_000),
    session,
    // Named statements live on one server connection, and a transaction pooler hands the next statement to any of its own.
    prepare: get('prepare', (v, s) => parseChoice(v, s, ['off', 'auto'] as const), pooler === 'transaction' ? 'off' : 'auto'),
    pooler,
    pipelineDepth: get('pipelineDepth', (v, s) => parseInteger(v, s, 1, MAX_PIPELINE_DEPTH), 32),
    waitForDbMs: get('waitForDb', parseDuration, 0),
    keepaliveTimeoutMs: get('keepaliveTimeout', atLeast(2_000), 60_000), // the kernel's keepalive settings count whole seconds: 1 s idle + 1 probe
    appName: get('appName', parseString, `pcluster:${name}`),
    logFormat: get('logFormat', (v, s) => parseChoice(v, s, ['pretty', 'json'] as const), input.isTTY && logFile === undefined ? 'pretty' : 'json'),
    nodeArgs: [...typescriptLoaderArgs(appPath, [...inheritedNodeArgs, ...nodeArgs], input.resolveFrom), ...nodeArgs],
    controlSocket,
    daemon,
    logFile,
    pidFile: pidFile === undefined ? undefined : path.resolve(input.cwd, pidFile),
    user: optional('user', parseString),
    group: optional('group', parseString),
    accessLog: accessLog === undefined || accessLog === '-' ? accessLog : path.resolve(input.cwd, accessLog),
    bindPath: bind === undefined ? undefined : path.resolve(input.cwd, bind),
  };
}
