import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import type { AccessLog } from './access-log.js';
import type { AppModule } from './app-module.js';
import type { DbSession } from './db-session.js';
import type { Logger } from './logger.js';
import { runWithDb } from './request-context.js';
import type { StatementPipeline } from './statement-pipeline.js';
import type { WorkerMetrics } from './worker-metrics.js';

const IDLE_SOCKET_GRACE_MS = 250;

export interface WorkerHttpServerDeps {
  readonly app: Pick<AppModule, 'listener'>;
  readonly pipeline: StatementPipeline;
  readonly openSession: (label: string) => DbSession;
  readonly metrics: WorkerMetrics;
  readonly log: Logger;
  /** Called after each response is finished (the worker reports in when it reaches --max-requests). */
  readonly afterResponse?: () => void;
  readonly accessLog?: AccessLog | undefined;
}

function isDatabaseUnavailable(error: unknown): error is { code: string; message: string; retryAfterSeconds: number } {
  return (error as { code?: unknown } | null)?.code === 'PCLUSTER_DB_UNAVAILABLE';
}

/** One in-flight response, linked into its server's list. */
interface InFlight {
  readonly res: ServerResponse;
  prev: InFlight | null;
  next: InFlight | null;
}

/**
 * The responses being served, as a doubly linked list rather than a Set: a Set keyed by each
 * request's young ServerResponse made every scavenge 3-4× slower (~1.4 ms → ~5 ms under load)
 * and cost ~25% of the worker's CPU per request (measured under load).
 */
class InFlightList {
  #head: InFlight | null = null;
  size = 0;

  add(res: ServerResponse): InFlight {
    const node: InFlight = { res, prev: null, next: this.#head };
    if (this.#head !== null) this.#head.prev = node;
    this.#head = node;
    this.size += 1;
    return node;
  }

  remove(node: InFlight): void {
    if (node.prev !== null) node.prev.next = node.next;
    else this.#head = node.next;
    if (node.next !== null) node.next.prev = node.prev;
    this.size -= 1;
  }

  *[Symbol.iterator](): IterableIterator<ServerResponse> {
    for (let node = this.#head; node !== null; node = node.next) yield node.res;
  }
}

/**
 * The worker's HTTP side: gives each request its own DbSession, turns handler failures into
 * bare 500s (503 + Retry-After when the database is unavailable), and drains without
 * dropping a request: stop accepting, finish in-flight requests, close keep-alive sockets
 * only after they have been told `Connection: close` or sat idle.
 */
export class WorkerHttpServer {
  readonly server: http.Server;
  readonly #deps: WorkerHttpServerDeps;
  readonly #inFlight = new InFlightList();
  #isDraining = false;

  constructor(deps: WorkerHttpServerDeps, adopted?: http.Server) {
    this.#deps = deps;
    this.server = adopted ?? http.createServer();
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res));
  }

  /**
   * Serves through a server the app created and asked to listen (SPEC §2): its request listeners run
   * behind pcluster's, so every request gets what an exported handler's gets.
   */
  static adopt(server: http.Server, deps: Omit<WorkerHttpServerDeps, 'app'>): WorkerHttpServer {
    const listeners = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
    server.removeAllListeners('request');
    const listener = (req: IncomingMessage, res: ServerResponse): void => {
      for (const appListener of listeners) appListener.call(server, req, res);
    };
    return new WorkerHttpServer({ ...deps, app: { listener } }, server);
  }

  /** Listens on the cluster's shared port (or --bind socket); rejects with the listen error (EADDRINUSE, EACCES). */
  listen(target: { readonly port: number; readonly host: string } | { readonly path: string }): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(target, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Stops accepting and resolves once every connection has closed, forcing them closed after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    this.#isDraining = true;
    // net.Server#close, not http.Server#close: the latter also drops idle keep-alive sockets at once,
    // racing a client that is sending its next request on them.
    const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(this.server, () => resolve()));
    for (const res of this.#inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
    const idleSweep = setInterval(() => this.server.closeIdleConnections(), IDLE_SOCKET_GRACE_MS);
    const deadline = new Promise<'timeout'>((resolve) => setTimeout(resolve, timeoutMs, 'timeout').unref());
    const outcome = await Promise.race([closed, deadline]);
    clearInterval(idleSweep);
    if (outcome === 'timeout') {
      this.#deps.log.warn({ inFlight: this.#inFlight.size }, 'graceful timeout reached; closing remaining connections');
      this.server.closeAllConnections();
      await closed;
    }
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const { app, pipeline, metrics } = this.#deps;
    const startedAt = performance.now();
    const session = this.#deps.openSession(`${req.method} ${req.url}`);
    req.db = session;
    if (this.#isDraining) res.shouldKeepAlive = false;
    const inFlight = this.#inFlight.add(res);
    const logged = this.#deps.accessLog?.begin(req, res);
    // 'close' comes once per response; on() rather than once() spares the wrapper, its bind and the removal (~1k instructions a request).
    res.on('close', () => {
      logged?.(startedAt);
      this.#inFlight.remove(inFlight);
      pipeline.endSession(session);
      metrics.observeResponse(res.statusCode, (performance.now() - startedAt) / 1000);
      this.#deps.afterResponse?.();
    });
    runWithDb(session, () => {
      try {
        const result = app.listener(req, res);
        if (result instanceof Promise) result.catch((error: unknown) => this.#fail(error, req, res));
      } catch (error) {
        this.#fail(error, req, res);
      }
    });
  }

  #fail(error: unknown, req: IncomingMessage, res: ServerResponse): void {
    const unavailable = isDatabaseUnavailable(error);
    // Its stack is pcluster's own wait for the connection, the same on every request of an outage: left out.
    if (unavailable) this.#deps.log.warn({ method: req.method, path: req.url, error: error.message }, 'database unavailable; answered 503');
    else this.#deps.log.error({ method: req.method, path: req.url, err: error }, 'handler failed; answered 500');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const statusCode = unavailable ? 503 : 500;
    const body = unavailable ? 'Service Unavailable\n' : 'Internal Server Error\n';
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.writeHead(statusCode, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      ...(unavailable ? { 'retry-after': String(error.retryAfterSeconds) } : {}),
    });
    res.end(body);
  }
}
