import cluster from 'node:cluster';
import { createRequire } from 'node:module';
import type http from 'node:http';
import type net from 'node:net';
import type { Logger } from '@pcluster/worker-runtime/logger';
import { WORKER_EXIT, type DatabaseSettings, type SerializedError, type WorkerMessage } from '@pcluster/worker-runtime/protocol';
import { ClusterMetrics } from './cluster-metrics.js';
import { ConnectionBudget } from './connection-budget.js';
import { commandForSignal, type ControlRequest, type ControlResponse } from './control-protocol.js';
import { listenControlSocket } from './control-server.js';
import { decide } from './decide.js';
import { DesiredState } from './desired-state.js';
import { createMetricsServer, listenMetrics } from './metrics-server.js';
import type { ServerCapacity } from './check-server-capacity.js';
import { reloadAnswer, ReloadProgress } from './reload-progress.js';
import { ServerConnectionMonitor } from './server-connection-monitor.js';
import { BootLock } from './boot-lock.js';
import type { StartOptions } from './start-options.js';
import { buildStatusReport, type StatusReport } from './status-report.js';
import { WorkerCollector } from './worker-collector.js';
import { workerStdio } from './worker-output.js';
import { PrimaryLogs } from './primary-logs.js';
import { describeBootFailure } from './slot.js';
import type { WorkerEvents, WorkerHandle } from './worker-handle.js';
import { handleWorkerMessage, type MessageContext } from './worker-message.js';
import { WorkerRoster } from './worker-roster.js';
import { ownBindSocket } from './unix-socket-file.js';

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
export const WORKER_MAIN = createRequire(import.meta.url).resolve('@pcluster/worker-runtime/worker-main');

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
  readonly #logs: PrimaryLogs;
  /** Resolve once the control socket answers, and once every worker is ready (the daemon's cue to detach). */
  readonly listening: Promise<void>;
  readonly ready: Promise<void>;
  #markListening: () => void = () => {};
  #markReady: () => void = () => {};
  readonly #events: PrimaryEvent[] = [];
  readonly #metrics: ClusterMetrics;
  readonly #collector: WorkerCollector;
  readonly #budget: ConnectionBudget;
  readonly #metricsServer: http.Server;
  #controlServer: net.Server | undefined;
  readonly #desired: DesiredState;
  readonly #workers: WorkerRoster;
  readonly #reload = new ReloadProgress();
  /** `pcluster reload --wait` clients, answered when the reload is done or has failed. */
  readonly #reloadWaiters: ((response: ControlResponse) => void)[] = [];
  #isLoopScheduled = false;
  #wakeTimer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #serverCheck: NodeJS.Timeout | undefined;
  readonly #monitor: ServerConnectionMonitor;
  readonly #bootLock = new BootLock();
  readonly #messageContext: MessageContext;
  #exitCode: number = EXIT.ok;
  #finish: (code: number) => void = () => {};

  /** `serverCapacity`: what the server can give, when the start could ask it; scaling up is held to it. */
  constructor(options: StartOptions, database: DatabaseSettings, serverCapacity?: ServerCapacity) {
    this.#options = options;
    this.#database = database;
    this.#budget = new ConnectionBudget(options.maxConnections);
    this.#logs = new PrimaryLogs(options);
    this.#log = this.#logs.log;
    this.listening = new Promise((resolve) => (this.#markListening = resolve));
    this.ready = new Promise((resolve) => (this.#markReady = resolve));
    this.#metrics = new ClusterMetrics(() => this.#workers.live(), options.maxConnections);
    this.#collector = new WorkerCollector(COLLECT_TIMEOUT_MS, this.#metrics.countCollectionMiss);
    this.#desired = new DesiredState(options, this.#budget, this.#metrics, this.#log, serverCapacity);
    this.#workers = new WorkerRoster({
      options, desired: this.#desired, budget: this.#budget, collector: this.#collector, metrics: this.#metrics, reload: this.#reload, log: this.#log, output: this.#logs.output,
      events: this.#workerEvents, haltOnBootFailure: (slot, code, signal, failure) => this.#haltOnBootFailure(slot, code, signal, failure),
    });
    this.#monitor = new ServerConnectionMonitor({
      applicationNamePrefix: `${options.appName}:`, orphanGraceMs: ORPHAN_GRACE_MS, log: this.#log, events: this.#metrics.serverEvents,
    });
    this.#metricsServer = createMetricsServer({
      metrics: async () => this.#metrics.render(await this.#collector.collect(this.#workers.live())),
      status: () => this.status(),
      isReady: () => this.#workers.live().some((h) => h.isReady && h.dbState === 'open'),
    }, options.metricsHost);
    this.#messageContext = {
      options, database, budget: this.#budget, log: this.#log, workers: this.#workers, collector: this.#collector, monitor: this.#monitor,
      bootLock: this.#bootLock, setAddress: (address) => (this.#address = address), announceIfAllReady: () => this.#announceIfAllReady(),
    };
  }

  get log(): Logger {
    return this.#log;
  }

  /** Serves until stopped; resolves with the process exit status (SPEC §1). */
  async run(): Promise<number> {
    const { metricsPort, metricsHost, controlSocket, timeoutMs } = this.#options;
    this.#controlServer = await listenControlSocket(controlSocket, (request) =>
      request.command === 'status'
        ? this.status().then((status): ControlResponse => ({ ok: true, status }))
        : new Promise<ControlResponse>((reply) => this.#enqueue({ type: 'command', request, reply })),
    );
    try {
      await listenMetrics(this.#metricsServer, metricsPort, metricsHost);
    } catch (error) {
      this.#controlServer.close();
      throw error;
    }
    // After listening, an error on either server (an accept that fails, say) is logged, never thrown.
    this.#controlServer.on('error', (error) => this.#log.error({ err: error }, 'control socket error'));
    this.#metricsServer.on('error', (error) => this.#log.error({ err: error }, 'metrics server error'));
    const { bindPath } = this.#options;
    const removeBindSocket = bindPath === undefined ? () => {} : await ownBindSocket(bindPath, this.#options.runAs?.gid);
    this.#markListening();
    cluster.setupPrimary({ exec: WORKER_MAIN, execArgv: [...process.execArgv, ...this.#options.nodeArgs], args: [], stdio: workerStdio() });
    // SIGUSR1 would otherwise start Node's inspector; here it reopens the log file (SPEC §1).
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGTTIN', 'SIGTTOU', 'SIGUSR1'] as const) {
      process.on(signal, () => this.#enqueue({ type: 'signal', signal }));
    }
    const heartbeatMs = Math.min(1_000, Math.max(100, Math.floor(timeoutMs / 4)));
    this.#heartbeat = setInterval(() => {
      for (const handle of this.#workers.live()) if (handle.isReady) handle.send({ type: 'pcluster:ping' });
    }, heartbeatMs);
    // Behind a transaction pooler the backends are the pooler's, shared with its other clients: not ours to count or terminate.
    if (this.#options.pooler === 'none') {
      this.#serverCheck = setInterval(() => {
        if (!this.#desired.isStopping) void this.#monitor.check(this.#workers.live(), Date.now());
      }, SERVER_CHECK_INTERVAL_MS);
    } else this.#metrics.omitServerSide();
    const done = new Promise<number>((resolve) => {
      this.#finish = resolve;
    });
    this.#enqueue({ type: 'tick' });
    const code = await done;
    clearInterval(this.#heartbeat);
    clearInterval(this.#serverCheck);
    clearTimeout(this.#wakeTimer);
    // The control server's close is not awaited: a `stop --wait` connection stays open until this process exits.
    this.#controlServer.close();
    await new Promise((resolve) => this.#metricsServer.close(resolve));
    removeBindSocket();
    await this.#logs.close();
    this.#log.info({ code }, 'stopped');
    return code;
  }

  /** Fresh status of every worker (asks them for their counters first). */
  async status(): Promise<StatusReport> {
    await this.#collector.refreshStatus(this.#workers.live());
    const cluster = {
      name: this.#options.name, maxConnections: this.#budget.max, connectionsGranted: this.#budget.granted, serverConnections: this.#metrics.serverConnections,
      reload: this.#reload.report(this.#desired.workers, this.#workers.live()),
    };
    return buildStatusReport(cluster, this.#workers.withHistory(), Date.now());
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
    const { actions, wakeAt } = decide(this.#desired.intent(), this.#workers.view(), now);
    for (const action of actions) this.#workers.apply(action);
    clearTimeout(this.#wakeTimer);
    if (wakeAt !== undefined) this.#wakeTimer = setTimeout(() => this.#enqueue({ type: 'tick' }), Math.max(0, wakeAt - now));
    this.#settleReload();
    if (this.#desired.isStopping && this.#workers.live().length === 0) this.#finish(this.#exitCode);
  }

  #handle(event: PrimaryEvent): void {
    switch (event.type) {
      case 'signal':
        return this.#handleSignal(event.signal);
      case 'message':
        return handleWorkerMessage(this.#messageContext, event.handle, event.message);
      case 'exit':
        this.#bootLock.release(event.handle.id);
        return this.#workers.reapWorker(event.handle, event.code, event.signal, event.forkError);
      case 'command':
        return this.#handleCommand(event.request, event.reply);
      case 'tick':
    }
  }

  /** A signal is the control command it stands for; a refusal (TTOU at one worker) is logged. */
  #handleSignal(signal: NodeJS.Signals): void {
    if (signal === 'SIGUSR1') return this.#logs.reopen();
    this.#handleCommand(commandForSignal(signal, this.#desired.workers), (response) => {
      if (!response.ok) this.#log.warn({ signal }, response.error);
    }, signal);
  }

  #handleCommand(request: Exclude<ControlRequest, { command: 'status' }>, reply: (response: ControlResponse) => void, cause = 'control socket'): void {
    switch (request.command) {
      case 'reload': {
        if (this.#desired.isStopping) return reply({ ok: false, error: 'cannot reload: the cluster is stopping' });
        const message = this.#desired.reload();
        this.#reload.begin(this.#desired.phase, Date.now());
        return request.wait === true ? void this.#reloadWaiters.push(reply) : reply({ ok: true, message });
      }
      case 'scale': {
        const problem = this.#desired.scale(request.workers);
        return reply(problem === undefined ? { ok: true, message: `scaling to ${this.#desired.workers} workers` } : { ok: false, error: problem });
      }
      case 'stop':
        this.#stop(cause);
        return reply({ ok: true, message: 'stopping: draining workers', pid: process.pid });
    }
  }

  /** Answers `reload --wait` clients once the reload is done, has failed, or the cluster stops under it. */
  #settleReload(): void {
    // Every loop, waiters or not: a reload that is done stays done (ReloadProgress.report).
    const report = this.#reload.report(this.#desired.workers, this.#workers.live());
    const response = report === null ? undefined : reloadAnswer(report, this.#desired.isStopping);
    if (response !== undefined) for (const reply of this.#reloadWaiters.splice(0)) reply(response);
  }

  #stop(cause: string): void {
    if (this.#desired.stop(cause)) return;
    this.#log.warn({ cause }, 'second stop request: killing workers now');
    this.#workers.killWorkers();
  }

  /** Says the cluster is up once every worker is ready and has answered a heartbeat since: one that cannot would be killed for --timeout. */
  #announceIfAllReady(): void {
    if (!this.#workers.reachedAllReady()) return;
    const { host, port } = this.#address ?? this.#options;
    const url = this.#options.bindPath === undefined ? `http://${host}:${port}` : `unix:${this.#options.bindPath}`;
    this.#log.info({ workers: this.#desired.workers, url }, `all ${this.#desired.workers} workers ready on ${url}`);
    this.#markReady();
  }

  /** gunicorn's boot-error halt: no worker ever came up, so restarting would only fork-storm. */
  #haltOnBootFailure(slot: number, code: number | null, signal: string | null, failure: SerializedError | undefined): void {
    this.#desired.isStopping = true;
    this.#exitCode = code === WORKER_EXIT.databaseUnreachable ? EXIT.database : EXIT.appBoot;
    process.stderr.write(describeBootFailure(slot, code, signal, failure));
    this.#workers.killWorkers();
  }

  readonly #workerEvents: WorkerEvents = {
    // Access-log lines need no decision: written at once, not through the loop.
    message: (handle, message) => (message.type === 'pcluster:access-log' ? this.#logs.accessLog?.write(message.lines) : this.#enqueue({ type: 'message', handle, message })),
    exit: (handle, code, signal, forkError) => this.#enqueue({ type: 'exit', handle, code, signal, forkError }),
    // A send to a worker that is exiting fails with EPIPE; its 'exit' event is what matters.
    channelError: (handle, error) => this.#log.debug({ worker: handle.slot, err: error }, 'worker channel error'),
    stranded: (from, connections) => this.#workers.handOverStranded(from, connections),
  };
}
