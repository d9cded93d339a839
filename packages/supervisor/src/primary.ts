import cluster from 'node:cluster';
import { createRequire } from 'node:module';
import type http from 'node:http';
import type net from 'node:net';
import { createLogger, type Logger } from '@pcluster/worker-runtime/logger';
import { WORKER_EXIT, type DatabaseSettings, type SerializedError, type WorkerMessage } from '@pcluster/worker-runtime/protocol';
import { ClusterMetrics } from './cluster-metrics.js';
import { ConnectionBudget } from './connection-budget.js';
import { commandForSignal, type ControlRequest, type ControlResponse } from './control-protocol.js';
import { listenControlSocket } from './control-server.js';
import { decide, startupDeathHalts, type Action } from './decide.js';
import { DesiredState } from './desired-state.js';
import { createMetricsServer, listenOn } from './metrics-server.js';
import type { ServerCapacity } from './check-server-capacity.js';
import { ServerConnectionMonitor } from './server-connection-monitor.js';
import type { StartOptions } from './start-options.js';
import { buildStatusReport, type RestartReason, type StatusReport } from './status-report.js';
import { WorkerCollector } from './worker-collector.js';
import { bootTimeoutFailure, describeBootFailure, emptySlot, forkFailure, KILL_MESSAGES, scheduleRespawn, vacate, type Slot, type SlotFailure } from './slot.js';
import { buildWorkerConfig } from './worker-config.js';
import { handOverConnections } from './unaccepted-connections.js';
import { WorkerHandle, type WorkerEvents } from './worker-handle.js';

const COLLECT_TIMEOUT_MS = 2_000;
/** How often PostgreSQL's own count of the cluster's connections is read, and how long an orphan may live. */
const SERVER_CHECK_INTERVAL_MS = 2_000;
const ORPHAN_GRACE_MS = 4_000;
const EXIT = { ok: 0, appBoot: 3, database: 4 } as const;

type PrimaryEvent =
  | { readonly type: 'signal'; readonly signal: NodeJS.Signals }
  | { readonly type: 'message'; readonly handle: WorkerHandle; readonly message: WorkerMessage }
  | { readonly type: 'exit'; readonly handle: WorkerHandle; readonly code: number | null; readonly signal: string | null; readonly forkError?: NodeJS.ErrnoException }
  | { readonly type: 'command'; readonly request: Exclude<ControlRequest, { command: 'status' }>; readonly reply: (response: ControlResponse) => void }
  | { readonly type: 'tick' };

/** Where the workers' module lives: resolved through the package, so an installed pcluster finds its own runtime. */
const WORKER_MAIN = createRequire(import.meta.url).resolve('@pcluster/worker-runtime/worker-main');

/**
 * The arbiter. Signals, worker messages, exits and control commands only enqueue; one loop
 * drains the queue, asks the pure `decide()` what to do, and does it. `run()` resolves with
 * the exit status.
 */
export class Primary {
  readonly #options: StartOptions;
  readonly #database: DatabaseSettings;
  /** Where the workers listen, when the app's own server asked for another port than --port (SPEC §2). */
  #address: { readonly host: string; readonly port: number } | undefined;
  readonly #log: Logger;
  readonly #slots = new Map<number, Slot>();
  readonly #draining = new Set<WorkerHandle>();
  readonly #events: PrimaryEvent[] = [];
  readonly #metrics: ClusterMetrics;
  readonly #collector: WorkerCollector;
  readonly #budget: ConnectionBudget;
  readonly #bootFailures = new Map<WorkerHandle, SerializedError>();
  readonly #metricsServer: http.Server;
  #controlServer: net.Server | undefined;
  readonly #desired: DesiredState;
  #hasEverBeenReady = false;
  /** Workers that died before the cluster was first all ready, without reporting a boot failure. */
  #startupDeaths = 0;
  #isLoopScheduled = false;
  #wakeTimer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #serverCheck: NodeJS.Timeout | undefined;
  readonly #monitor: ServerConnectionMonitor;
  #exitCode: number = EXIT.ok;
  #finish: (code: number) => void = () => {};

  /** `serverCapacity`: what the server can give, when the start could ask it; scaling up is held to it. */
  constructor(options: StartOptions, database: DatabaseSettings, serverCapacity?: ServerCapacity) {
    this.#options = options;
    this.#database = database;
    this.#budget = new ConnectionBudget(options.maxConnections);
    this.#log = createLogger({ format: options.logFormat, base: { role: 'primary', pid: process.pid } });
    this.#metrics = new ClusterMetrics(() => this.#liveHandles(), options.maxConnections);
    this.#collector = new WorkerCollector(COLLECT_TIMEOUT_MS, this.#metrics.countCollectionMiss);
    this.#desired = new DesiredState(options, this.#budget, this.#metrics, this.#log, serverCapacity);
    this.#monitor = new ServerConnectionMonitor({
      applicationNamePrefix: `${options.appName}:`, orphanGraceMs: ORPHAN_GRACE_MS, log: this.#log, events: this.#metrics.serverEvents,
    });
    this.#metricsServer = createMetricsServer({
      metrics: async () => this.#metrics.render(await this.#collector.collect(this.#liveHandles())),
      status: () => this.status(),
      isReady: () => this.#liveHandles().some((h) => h.isReady && h.dbState === 'open'),
    }, options.metricsHost);
  }

  get log(): Logger {
    return this.#log;
  }

  /** Serves until stopped; resolves with the process exit status (SPEC §1). */
  async run(): Promise<number> {
    const { metricsPort, metricsHost, name, controlSocket, timeoutMs } = this.#options;
    this.#controlServer = await listenControlSocket(controlSocket, (request) =>
      request.command === 'status'
        ? this.status().then((status): ControlResponse => ({ ok: true, status }))
        : new Promise<ControlResponse>((reply) => this.#enqueue({ type: 'command', request, reply })),
    );
    try {
      await listenOn(this.#metricsServer, metricsPort, metricsHost, 'metrics');
    } catch (error) {
      this.#controlServer.close();
      throw error;
    }
    // After listening, an error on either server (an accept that fails, say) is logged, never thrown.
    this.#controlServer.on('error', (error) => this.#log.error({ err: error }, 'control socket error'));
    this.#metricsServer.on('error', (error) => this.#log.error({ err: error }, 'metrics server error'));
    process.title = `pcluster primary ${name}`;
    cluster.setupPrimary({ exec: WORKER_MAIN, execArgv: [...process.execArgv, ...this.#options.nodeArgs], args: [] });
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGTTIN', 'SIGTTOU'] as const) {
      process.on(signal, () => this.#enqueue({ type: 'signal', signal }));
    }
    const heartbeatMs = Math.min(1_000, Math.max(100, Math.floor(timeoutMs / 4)));
    this.#heartbeat = setInterval(() => {
      for (const handle of this.#liveHandles()) if (handle.isReady) handle.send({ type: 'pcluster:ping' });
    }, heartbeatMs);
    this.#serverCheck = setInterval(() => {
      if (!this.#desired.isStopping) void this.#monitor.check(this.#liveHandles(), Date.now());
    }, SERVER_CHECK_INTERVAL_MS);
    const done = new Promise<number>((resolve) => {
      this.#finish = resolve;
    });
    this.#enqueue({ type: 'tick' });
    const code = await done;
    clearInterval(this.#heartbeat);
    clearInterval(this.#serverCheck);
    clearTimeout(this.#wakeTimer);
    await Promise.all([this.#metricsServer, this.#controlServer].map((server) => new Promise((resolve) => server.close(resolve))));
    this.#log.info({ code }, 'stopped');
    return code;
  }

  /** Fresh status of every worker (asks them for their counters first). */
  async status(): Promise<StatusReport> {
    await this.#collector.refreshStatus(this.#liveHandles());
    const cluster = { name: this.#options.name, maxConnections: this.#budget.max, connectionsGranted: this.#budget.granted, serverConnections: this.#metrics.serverConnections };
    return buildStatusReport(cluster, this.#liveHandles().map((handle) => ({ handle, history: this.#slots.get(handle.slot)! })), Date.now());
  }

  #liveHandles(): WorkerHandle[] {
    const serving = [...this.#slots.values()].flatMap((s) => [s.current, s.successor]).filter((h): h is WorkerHandle => h !== undefined);
    return [...serving, ...this.#draining];
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
    const { actions, wakeAt } = decide(this.#desired.intent(), {
      slots: [...this.#slots.values()].map(({ slot, current, successor, respawnAt }) => ({ slot, current, successor, respawnAt })),
      draining: [...this.#draining],
      connectionsGranted: this.#budget.granted,
      connectionsDraining: [...this.#draining].filter((handle) => this.#budget.holds(handle.id)).length,
    }, now);
    for (const action of actions) this.#apply(action);
    clearTimeout(this.#wakeTimer);
    if (wakeAt !== undefined) this.#wakeTimer = setTimeout(() => this.#enqueue({ type: 'tick' }), Math.max(0, wakeAt - now));
    if (this.#desired.isStopping && this.#liveHandles().length === 0) this.#finish(this.#exitCode);
  }

  #handle(event: PrimaryEvent): void {
    switch (event.type) {
      case 'signal':
        return this.#handleSignal(event.signal);
      case 'message':
        return this.#handleMessage(event.handle, event.message);
      case 'exit':
        return this.#handleExit(event.handle, event.code, event.signal, event.forkError);
      case 'command':
        return event.reply(this.#handleCommand(event.request));
      case 'tick':
    }
  }

  /** A signal is the control command it stands for; a refusal (TTOU at one worker) is logged. */
  #handleSignal(signal: NodeJS.Signals): void {
    const response = this.#handleCommand(commandForSignal(signal, this.#desired.workers), signal);
    if (!response.ok) this.#log.warn({ signal }, response.error);
  }

  #handleCommand(request: Exclude<ControlRequest, { command: 'status' }>, cause = 'control socket'): ControlResponse {
    switch (request.command) {
      case 'reload':
        return { ok: true, message: this.#desired.reload() };
      case 'scale': {
        const problem = this.#desired.scale(request.workers);
        return problem === undefined ? { ok: true, message: `scaling to ${this.#desired.workers} workers` } : { ok: false, error: problem };
      }
      case 'stop':
        this.#stop(cause);
        return { ok: true, message: 'stopping: draining workers' };
    }
  }

  #stop(cause: string): void {
    if (this.#desired.stop(cause)) return;
    this.#log.warn({ cause }, 'second stop request: killing workers now');
    for (const handle of this.#liveHandles()) handle.kill('SIGKILL');
  }

  #handleMessage(handle: WorkerHandle, message: WorkerMessage): void {
    const now = Date.now();
    switch (message.type) {
      case 'pcluster:hello':
        // A drain sent while the worker was still loading reached no listener: it is told again instead of booting.
        if (handle.state === 'draining') return void handle.send({ type: 'pcluster:drain' });
        handle.helloAt = now;
        handle.send({ type: 'pcluster:configure', config: buildWorkerConfig(this.#options, this.#database, handle) });
        return;
      case 'pcluster:connect-request':
        if (handle.state === 'exited') return; // read after its exit was handled: the grant would never come back
        if (this.#budget.granted >= this.#budget.max) {
          this.#log.info({ worker: handle.slot, workerPid: handle.pid, budget: this.#budget.max }, 'worker waits for the connection budget');
        }
        this.#budget.request(handle.id, () => {
          handle.grantedAt = Date.now();
          handle.send({ type: 'pcluster:grant' });
        });
        return;
      case 'pcluster:ready':
        handle.update(message.status, now);
        if (message.address !== undefined) this.#address = message.address;
        return this.#onReady(handle, now);
      case 'pcluster:pong':
        handle.update(message.status, now);
        if (handle.isReady) handle.hasAnsweredHeartbeat = true;
        return this.#announceIfAllReady();
      case 'pcluster:boot-failed':
        if (handle.state === 'exited') return; // read after its exit: the exit code already said it (see #handleExit)
        this.#bootFailures.set(handle, message.error);
        return;
      case 'pcluster:db-state':
        handle.dbState = message.state;
        handle.backendPid = message.backendPid;
        return;
      case 'pcluster:collected':
        this.#collector.answered(message);
        return;
      case 'pcluster:server-connections':
        return this.#monitor.answered(message);
      case 'pcluster:retiring':
        handle.lastMetrics = message.metrics;
        return;
    }
  }

  #onReady(handle: WorkerHandle, now: number): void {
    if (handle.state !== 'starting') return;
    handle.transition('ready');
    handle.readyAt = now;
    const slot = this.#slots.get(handle.slot)!;
    this.#log.info({ worker: handle.slot, workerPid: handle.pid, backendPid: handle.backendPid, generation: handle.phase }, 'worker ready');
    if (slot.successor === handle) {
      // Make-before-break: the successor serves now, so the worker it replaces may drain.
      const old = slot.current;
      const reason = slot.successorReason ?? 'crash';
      slot.current = handle;
      slot.successor = undefined;
      slot.successorReason = undefined;
      if (old !== undefined) {
        this.#countRestart(slot, reason);
        this.#drain(old, reason);
      }
    }
    // Asked at once, not at the next heartbeat: "all workers ready" waits for every answer (see #announceIfAllReady).
    handle.send({ type: 'pcluster:ping' });
  }

  /** Says the cluster is up once every worker is ready and has answered a heartbeat since: one that cannot would be killed for --timeout. */
  #announceIfAllReady(): void {
    if (this.#hasEverBeenReady || this.#liveHandles().filter((h) => h.isReady && h.hasAnsweredHeartbeat).length < this.#desired.workers) return;
    this.#hasEverBeenReady = true;
    const { host, port } = this.#address ?? this.#options;
    this.#log.info({ workers: this.#desired.workers, url: `http://${host}:${port}` }, `all ${this.#desired.workers} workers ready on http://${host}:${port}`);
  }

  #handleExit(handle: WorkerHandle, code: number | null, signal: string | null, forkError?: NodeJS.ErrnoException): void {
    if (handle.state === 'exited') return; // a refused fork reports an 'error'; an 'exit' may or may not follow it
    const slot = this.#slots.get(handle.slot)!;
    const wasReady = handle.readyAt !== undefined;
    this.#budget.release(handle.id);
    this.#collector.forget(handle);
    this.#metrics.retire(handle.lastMetrics);
    handle.transition('exited');
    const bootFailure = this.#bootFailures.get(handle);
    this.#bootFailures.delete(handle);
    if (this.#draining.delete(handle)) {
      this.#log.info({ worker: handle.slot, workerPid: handle.pid, code, signal, reason: handle.stopReason }, 'worker retired');
      return;
    }
    const wasCurrent = vacate(slot, handle);
    const isReported = bootFailure !== undefined || code === WORKER_EXIT.appBootFailed || code === WORKER_EXIT.databaseUnreachable;
    const failure = forkError === undefined ? bootFailure : forkFailure(slot.slot, forkError);
    this.#bookFailure(slot, { wasCurrent, wasReady, readyAt: handle.readyAt, isReported, failure, pid: handle.pid, code, signal, reason: handle.stopReason === 'timeout' ? 'timeout' : 'crash' });
  }

  /** A slot's worker died or could not be forked: halt a start that cannot come up, else respawn it after its backoff. */
  #bookFailure(slot: Slot, death: SlotFailure): void {
    if (this.#desired.isStopping) return;
    const { code, signal, failure } = death;
    if (!this.#hasEverBeenReady && !death.wasReady) {
      const isAnyReady = this.#liveHandles().some((h) => h.isReady);
      if (startupDeathHalts({ isReported: death.isReported, deaths: ++this.#startupDeaths, workers: this.#desired.workers, isAnyReady })) {
        return this.#haltOnBootFailure(slot.slot, code, signal, failure);
      }
    }
    const respawnInMs = scheduleRespawn(slot, death, Date.now());
    if (death.wasCurrent) this.#countRestart(slot, death.reason);
    this.#log.error(
      { worker: slot.slot, workerPid: death.pid, code, signal, reason: death.reason, error: failure?.message, respawnInMs, consecutiveFailures: slot.consecutiveFailures },
      death.pid === undefined ? 'could not start a worker process; retrying' : death.wasCurrent ? 'worker died; replacing it' : 'replacement worker died before it was ready',
    );
  }

  /** gunicorn's boot-error halt: no worker ever came up, so restarting would only fork-storm. */
  #haltOnBootFailure(slot: number, code: number | null, signal: string | null, failure: SerializedError | undefined): void {
    this.#desired.isStopping = true;
    this.#exitCode = code === WORKER_EXIT.databaseUnreachable ? EXIT.database : EXIT.appBoot;
    process.stderr.write(describeBootFailure(slot, code, signal, failure));
    for (const other of this.#liveHandles()) other.kill('SIGKILL');
  }

  #countRestart(slot: Slot, reason: RestartReason): void {
    slot.restarts += 1;
    slot.lastRestartReason = reason;
    this.#metrics.countRestart(reason);
  }

  #apply(action: Action): void {
    switch (action.type) {
      case 'spawn':
        return void this.#spawnWorker(action.slot);
      case 'replace': {
        const slot = this.#slots.get(action.slot)!;
        this.#log.info({ worker: action.slot, workerPid: slot.current?.pid, reason: action.reason }, 'recycling worker: booting its replacement');
        slot.successor = this.#spawnWorker(action.slot);
        if (slot.successor !== undefined) slot.successorReason = action.reason;
        return;
      }
      case 'drain': {
        const handle = this.#liveHandles().find((h) => h.id === action.id);
        if (handle === undefined) return;
        const slot = this.#slots.get(handle.slot)!;
        if (action.reason !== 'stop') this.#countRestart(slot, action.reason);
        vacate(slot, handle);
        return this.#drain(handle, action.reason);
      }
      case 'kill': {
        const handle = this.#liveHandles().find((h) => h.id === action.id);
        if (handle === undefined) return;
        // A boot timeout is reported as the worker's boot failure: logged on its exit, the start's error if no worker came up.
        if (action.reason === 'boot_timeout') this.#bootFailures.set(handle, bootTimeoutFailure(handle, this.#options));
        this.#log.warn({ worker: handle.slot, workerPid: handle.pid, reason: action.reason }, KILL_MESSAGES[action.reason]);
        if (action.reason !== 'graceful_timeout') handle.stopReason = 'timeout';
        return handle.kill('SIGKILL');
      }
    }
  }

  #spawnWorker(slotNumber: number): WorkerHandle | undefined {
    let slot = this.#slots.get(slotNumber);
    if (slot === undefined) {
      slot = emptySlot(slotNumber);
      this.#slots.set(slotNumber, slot);
    }
    const { maxRequests, maxRequestsJitter } = this.#options;
    const jitter = maxRequests > 0 && maxRequestsJitter > 0 ? Math.floor(Math.random() * (maxRequestsJitter + 1)) : 0;
    const wasEmpty = slot.current === undefined && slot.successor === undefined;
    let handle: WorkerHandle;
    try {
      handle = WorkerHandle.fork({ slot: slotNumber, phase: this.#desired.phase, now: Date.now(), maxRequests: maxRequests > 0 ? maxRequests + jitter : 0 }, this.#workerEvents);
    } catch (error) {
      // Refused outright: no process, no handle; the slot is retried like a crash.
      const failure = forkFailure(slotNumber, error as NodeJS.ErrnoException);
      this.#bookFailure(slot, { wasCurrent: wasEmpty, wasReady: false, readyAt: undefined, isReported: false, failure, pid: undefined, code: null, signal: null, reason: 'crash' });
      return undefined;
    }
    if (wasEmpty) slot.current = handle;
    this.#log.debug({ worker: slotNumber, workerPid: handle.pid, generation: this.#desired.phase }, 'worker forked');
    return handle;
  }

  readonly #workerEvents: WorkerEvents = {
    message: (handle, message) => this.#enqueue({ type: 'message', handle, message }),
    exit: (handle, code, signal, forkError) => this.#enqueue({ type: 'exit', handle, code, signal, forkError }),
    // A send to a worker that is exiting fails with EPIPE; its 'exit' event is what matters.
    channelError: (handle, error) => this.#log.debug({ worker: handle.slot, err: error }, 'worker channel error'),
    stranded: (from, connections) => {
      const to = this.#liveHandles().find((h) => h !== from && h.isReady && h.process.isConnected());
      this.#log.info({ worker: from.slot, workerPid: from.pid, connections: connections.length, to: to?.slot }, to === undefined ? 'closed connections a dead worker never accepted' : 'handed connections a dead worker never accepted to another worker');
      handOverConnections(connections, to?.process.process);
    },
  };

  #drain(handle: WorkerHandle, reason: RestartReason | 'stop'): void {
    if (handle.state === 'draining' || handle.state === 'exited') return;
    handle.transition('draining');
    handle.stopReason = reason;
    handle.drainStartedAt = Date.now();
    this.#draining.add(handle);
    if (!handle.send({ type: 'pcluster:drain' })) handle.kill('SIGTERM');
  }
}
