import { SECRET_ENV_NAMES, type DatabaseSettings, type WorkerConfig } from '@pcluster/worker-runtime/protocol';
import type { StartOptions } from './start-options.js';
import type { WorkerHandle } from './worker-handle.js';

/** What a worker is told over IPC after fork: its slot, the app, the database (with its slot's application_name) and its limits. */
export function buildWorkerConfig(o: StartOptions, database: DatabaseSettings, handle: WorkerHandle): WorkerConfig {
  return {
    name: o.name,
    slot: handle.slot,
    generation: handle.phase,
    appPath: o.appPath,
    port: o.port,
    host: o.host,
    isPortExplicit: o.isPortExplicit,
    isHostExplicit: o.isHostExplicit,
    database: { ...database, applicationName: `${o.appName}:${handle.slot}` },
    gracefulTimeoutMs: o.gracefulTimeoutMs,
    timeoutMs: o.timeoutMs,
    leaseTimeoutMs: o.leaseTimeoutMs,
    validateAfterMs: o.validateAfterMs,
    validationTimeoutMs: o.validationTimeoutMs,
    connectionMaxAgeMs: o.connectionMaxAgeMs,
    leakThresholdMs: o.leakThresholdMs,
    waitForDbMs: o.waitForDbMs,
    keepaliveTimeoutMs: o.keepaliveTimeoutMs,
    maxRequests: handle.maxRequests,
    prepare: o.prepare,
    pooler: o.pooler,
    pgCompat: o.pgCompat,
    pipelineDepth: o.pipelineDepth,
    ...(o.bindPath === undefined ? {} : { bindPath: o.bindPath }),
    ...(o.runAs === undefined ? {} : { runAs: o.runAs }),
    ...(o.accessLog === undefined ? {} : { accessLog: o.logFormat === 'json' ? 'json' : 'combined' }),
    secretEnv: Object.fromEntries(SECRET_ENV_NAMES.flatMap((key) => (process.env[key] === undefined ? [] : [[key, process.env[key]]]))),
  };
}
