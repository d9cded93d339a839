import cluster from 'node:cluster';
import { createRequire } from 'node:module';
import type http from 'node:http';
import { createLogger, type Logger } from '@pcluster/worker-runtime/logger';
import { isWorkerMessage, WORKER_EXIT, type DatabaseSettings, type SerializedError, type WorkerConfig, type WorkerMessage } from '@pcluster/worker-runtime/protocol';
import { ClusterMetrics } from './cluster-metrics.js';
import { decide, HEALTHY_UPTIME_MS, respawnDelayMs, type Action, type SlotView } from './decide.js';
import { createMetricsServer, listenOn } from './metrics-server.js';
import type { StartOptions } from './start-options.js';
import { buildStatusReport, type RestartReason, type StatusReport } from './status-report.js';
import { WorkerCollector } from './worker-collector.js';
import { WorkerHandle } from './worker-handle.js';

const COLLECT_TIMEOUT_MS = 2_000;
const EXIT = { ok: 0, appBoot: 3, database: 4 } as const;

type PrimaryEvent =
  | { readonly type: 'signal'; readonly signal: NodeJS.Signals }
  | { readonly type: 'message'; readonly handle: WorkerHandle; readonly message: WorkerMessage }
  | { readonly type: 'exit'; readonly handle: WorkerHandle; readonly code: number | null; readonly signal: string | null }
  | { readonly type: 'tick' };

interface Slot {
  readonly slot: number;
  handle: WorkerHandle | undefined;
  generation: number;
  respawnAt: number;
  consecutiveFailures: number;
  restarts: number;
  lastRestartReason: RestartReason | undefined;
}

/** Where the workers' module lives: resolved through the package, so an installed pcluster finds its own runtime. */
const WORKER_MAIN = createRequire(import.meta.url).resolve('@pcluster/worker-runtime/worker-main');

/**
 * The arbiter. Signals and cluster events only enqueue; one loop drains the queue, then
 * asks the pure `decide()` what to do, and does it. `run()` resolves with the exit status.
 */
export class Primary {
  readonly #options: StartOptions;
  readonly #database: DatabaseSettings;
  readonly #log: Logger;
  readonly #slots = new Map<number, Slot>();
  readonly #events: PrimaryEvent[] = [];
  readonly #metrics: ClusterMetrics;
  readonly #collector = new WorkerCollector(COLLECT_TIMEOUT_MS);
  readonly #metricsServer: http.Server;
  #isStopping = false;
  #hasEverBeenReady = false;
  #isLoopScheduled = false;
  #wakeTimer: NodeJS.Timeout | undefined;
  #exitCode: number = EXIT.ok;
  #finish: (code: number) => void = () => {};

  constructor(options: StartOptions, database: DatabaseSettings) {
    this.#options = options;
    this.#database = database;
    this.#log = createLogger({ format: options.logFormat, base: { role: 'primary', pid: process.pid } });
    this.#metrics = new ClusterMetrics(() => this.#liveHandles(), options.maxConnections);
    this.#metricsServer = createMetricsServer({
      metrics: async () => this.#metrics.render(await this.#collector.collect(this.#liveHandles())),
      status: () => this.status(),
      isReady: () => this.#liveHandles().some((h) => h.isReady && (h.dbState === 'ready' || h.dbState === 'busy')),
    });
  }

  get log(): Logger {
    return this.#log;
  }

  /** Serves until stopped; resolves with the process exit status (SPEC §1). */
  async run(): Promise<number> {
    const { metricsPort, metricsHost, name } = this.#options;
    await listenOn(this.#metricsServer, metricsPort, metricsHost, 'metrics');
    process.title = `pcluster primary ${name}`;
    cluster.setupPrimary({ exec: WORKER_MAIN, execArgv: [...process.execArgv, ...this.#options.nodeArgs], args: [] });
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGTTIN', 'SIGTTOU'] as const) {
      process.on(signal, () => this.#enqueue({ type: 'signal', signal }));
    }
    const done = new Promise<number>((resolve) => {
      this.#finish = resolve;
    });
    this.#enqueue({ type: 'tick' });
    const code = await done;
    await new Promise<void>((resolve) => this.#metricsServer.close(() => resolve()));
    return code;
  }

  /** Fresh status of every worker (asks them for their counters first). */
  async status(): Promise<StatusReport> {
    await this.#collector.collect(this.#liveHandles());
    const workers = [...this.#slots.values()]
      .filter((slot) => slot.handle !== undefined)
      .map((slot) => ({ handle: slot.handle!, history: slot }));
    return buildStatusReport({ name: this.#options.name, maxConnections: this.#options.maxConnections }, workers, Date.now());
  }

  #liveHandles(): WorkerHandle[] {
    return [...this.#slots.values()].flatMap((slot) => (slot.handle === undefined ? [] : [slot.handle]));
  }

  #enqueue(event: PrimaryEvent): void {
    this.#events.push(event);
    if (this.#isLoopScheduled) return;
    this.#isLoopScheduled = true;
    setImmediate(() => this.#loop());
  }

  #loop(): void {
    this.#isLoopScheduled = false;
    for (let event = this.#events.shift(); event !== undefined; event = this.#events.shift()) this.#handle(event);
    const now = Date.now();
    const views: SlotView[] = [...this.#slots.values()].map((slot) => ({ slot: slot.slot, worker: slot.handle, respawnAt: slot.respawnAt }));
    const intent = { workers: this.#options.workers, isStopping: this.#isStopping, gracefulTimeoutMs: this.#options.gracefulTimeoutMs };
    const { actions, wakeAt } = decide(intent, views, now);
    for (const action of actions) this.#apply(action);
    clearTimeout(this.#wakeTimer);
    if (wakeAt !== undefined) this.#wakeTimer = setTimeout(() => this.#enqueue({ type: 'tick' }), Math.max(0, wakeAt - now));
    if (this.#isStopping && this.#liveHandles().length === 0) this.#finish(this.#exitCode);
  }

  #handle(event: PrimaryEvent): void {
    switch (event.type) {
      case 'signal':
        return this.#handleSignal(event.signal);
      case 'message':
        return this.#handleMessage(event.handle, event.message);
      case 'exit':
        return this.#handleExit(event.handle, event.code, event.signal);
      case 'tick':
        return;
    }
  }

  #handleSignal(signal: NodeJS.Signals): void {
    if (signal === 'SIGTERM' || signal === 'SIGINT') {
      if (this.#isStopping) {
        this.#log.warn({ signal }, 'second stop signal: killing workers now');
        for (const handle of this.#liveHandles()) handle.process.process.kill('SIGKILL');
        return;
      }
      this.#log.info({ signal }, 'stopping: draining workers');
      this.#isStopping = true;
      return;
    }
    this.#log.warn({ signal }, 'signal not handled yet');
  }

  #handleMessage(handle: WorkerHandle, message: WorkerMessage): void {
    switch (message.type) {
      case 'pcluster:hello':
        handle.process.send({ type: 'pcluster:configure', config: this.#workerConfig(handle) });
        return;
      case 'pcluster:ready':
        handle.update(message.status);
        if (handle.state === 'starting') handle.state = 'ready';
        handle.readyAt = Date.now();
        this.#log.info({ worker: handle.slot, workerPid: handle.pid, backendPid: handle.backendPid }, 'worker ready');
        if (!this.#hasEverBeenReady && this.#liveHandles().every((h) => h.isReady)) {
          this.#hasEverBeenReady = true;
          const { host, port, workers } = this.#options;
          this.#log.info({ workers, url: `http://${host}:${port}` }, `all ${workers} workers ready on http://${host}:${port}`);
        }
        return;
      case 'pcluster:boot-failed':
        this.#bootFailures.set(handle, message.error);
        return;
      case 'pcluster:db-state':
        handle.dbState = message.state;
        handle.backendPid = message.backendPid;
        return;
      case 'pcluster:collected':
        this.#collector.answered(message);
        return;
      case 'pcluster:retiring':
        handle.lastMetrics = message.metrics;
        return;
    }
  }

  readonly #bootFailures = new Map<WorkerHandle, SerializedError>();

  #handleExit(handle: WorkerHandle, code: number | null, signal: string | null): void {
    const slot = this.#slots.get(handle.slot)!;
    if (slot.handle === handle) slot.handle = undefined;
    const wasDraining = handle.state === 'draining';
    const wasReady = handle.readyAt !== undefined;
    handle.state = 'exited';
    this.#metrics.retire(handle.lastMetrics);
    const bootFailure = this.#bootFailures.get(handle);
    this.#bootFailures.delete(handle);
    if (wasDraining || this.#isStopping) {
      this.#log.debug({ worker: handle.slot, workerPid: handle.pid, code, signal }, 'worker exited');
      return;
    }
    if (!this.#hasEverBeenReady && !wasReady) return this.#haltOnBootFailure(handle, code, signal, bootFailure);
    const now = Date.now();
    const ranLongEnough = wasReady && now - handle.startedAt >= HEALTHY_UPTIME_MS;
    slot.consecutiveFailures = ranLongEnough ? 1 : slot.consecutiveFailures + 1;
    slot.respawnAt = now + respawnDelayMs(slot.consecutiveFailures);
    slot.restarts += 1;
    slot.lastRestartReason = 'crash';
    this.#log.error(
      { worker: handle.slot, workerPid: handle.pid, code, signal, error: bootFailure?.message, respawnInMs: slot.respawnAt - now },
      'worker died; replacing it',
    );
  }

  /** gunicorn's boot-error halt: no worker ever came up, so restarting would only fork-storm. */
  #haltOnBootFailure(handle: WorkerHandle, code: number | null, signal: string | null, failure: SerializedError | undefined): void {
    if (this.#isStopping) return;
    this.#isStopping = true;
    this.#exitCode = code === WORKER_EXIT.databaseUnreachable ? EXIT.database : EXIT.appBoot;
    const line = failure?.message ?? `worker ${handle.slot} exited (${signal ?? `code ${code}`}) before it became ready`;
    process.stderr.write(`pcluster: ${line}\n`);
    if (failure?.detail !== undefined && failure.code !== 'PCLUSTER_BAD_MODULE') process.stderr.write(`${failure.detail}\n`);
    for (const other of this.#liveHandles()) other.process.process.kill('SIGKILL');
  }

  #apply(action: Action): void {
    const slot = this.#slots.get(action.slot);
    switch (action.type) {
      case 'spawn':
        return this.#spawnWorker(action.slot);
      case 'drain':
        if (slot?.handle !== undefined) this.#drainWorker(slot.handle);
        return;
      case 'kill':
        if (slot?.handle !== undefined) {
          this.#log.warn({ worker: slot.handle.slot, workerPid: slot.handle.pid }, 'worker did not drain in time; SIGKILL');
          slot.handle.process.process.kill('SIGKILL');
        }
        return;
    }
  }

  #spawnWorker(slotNumber: number): void {
    let slot = this.#slots.get(slotNumber);
    if (slot === undefined) {
      slot = { slot: slotNumber, handle: undefined, generation: 0, respawnAt: 0, consecutiveFailures: 0, restarts: 0, lastRestartReason: undefined };
      this.#slots.set(slotNumber, slot);
    }
    slot.generation += 1;
    const worker = cluster.fork({ PCLUSTER_WORKER_SLOT: String(slotNumber) });
    const handle = new WorkerHandle(slotNumber, slot.generation, worker, Date.now());
    slot.handle = handle;
    worker.on('message', (message: unknown) => {
      if (isWorkerMessage(message)) this.#enqueue({ type: 'message', handle, message });
    });
    worker.on('exit', (code, signal) => this.#enqueue({ type: 'exit', handle, code, signal }));
    // A send to a worker that is exiting fails with EPIPE; its 'exit' event is what matters.
    worker.on('error', (error) => this.#log.debug({ worker: slotNumber, err: error }, 'worker channel error'));
    this.#log.debug({ worker: slotNumber, workerPid: worker.process.pid, generation: slot.generation }, 'worker forked');
  }

  #drainWorker(handle: WorkerHandle): void {
    handle.state = 'draining';
    handle.drainStartedAt = Date.now();
    try {
      handle.process.send({ type: 'pcluster:drain' });
    } catch {
      handle.process.process.kill('SIGTERM');
    }
  }

  #workerConfig(handle: WorkerHandle): WorkerConfig {
    const o = this.#options;
    return {
      name: o.name,
      slot: handle.slot,
      generation: handle.generation,
      appPath: o.appPath,
      port: o.port,
      host: o.host,
      database: { ...this.#database, applicationName: `${o.appName}:${handle.slot}` },
      gracefulTimeoutMs: o.gracefulTimeoutMs,
      leaseTimeoutMs: o.leaseTimeoutMs,
      validateAfterMs: o.validateAfterMs,
      validationTimeoutMs: o.validationTimeoutMs,
      connectionMaxAgeMs: o.connectionMaxAgeMs,
      leakThresholdMs: o.leakThresholdMs,
      waitForDbMs: o.waitForDbMs,
      prepare: o.prepare,
      logFormat: o.logFormat,
    };
  }
}
