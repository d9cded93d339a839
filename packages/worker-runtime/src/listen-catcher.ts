/**
 * Catches the app's own `server.listen()` (Express' and Koa's `app.listen()`, `http.createServer(fn).listen()`,
 * `fastify.listen()`) so that pcluster adopts that server (SPEC §2): it listens on the cluster's shared port
 * (node:cluster shares it between the workers, as under PM2) with pcluster's request handling in front.
 */
import http from 'node:http';

/** Where and how the app asked to listen. */
export interface ListenRequest {
  readonly port: number | undefined;
  readonly host: string | undefined;
  /** A pipe or Unix socket path instead of a port. */
  readonly path: string | undefined;
}

export interface ListenCatcherEvents {
  /** The app asked `server` to listen: adopt it, and say where it really listens. */
  adopt(server: http.Server, request: ListenRequest): { readonly port: number; readonly host: string } | { readonly path: string };
  /** A second server asked for another port: pcluster serves one port per worker. */
  listenedTwice(first: ListenRequest, second: ListenRequest): void;
}

type Listen = (this: http.Server, ...args: unknown[]) => http.Server;

/** Reads node's listen() overloads: (port, host?, backlog?, cb?), (options, cb?), (path, cb?). */
export function readListenArgs(args: readonly unknown[]): ListenRequest & { readonly callback: (() => void) | undefined; readonly options: Record<string, unknown> } {
  const last = args[args.length - 1];
  const callback = typeof last === 'function' ? (last as () => void) : undefined;
  const first = args[0];
  if (typeof first === 'object' && first !== null) {
    const options = first as Record<string, unknown>;
    const port = options['port'] === undefined ? undefined : Number(options['port']);
    return { port: Number.isInteger(port) ? port : undefined, host: typeof options['host'] === 'string' ? options['host'] : undefined, path: typeof options['path'] === 'string' ? options['path'] : undefined, callback, options };
  }
  const isNumeric = typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first));
  const port = isNumeric ? Number(first) : undefined;
  const host = isNumeric && typeof args[1] === 'string' ? args[1] : undefined;
  const path = typeof first === 'string' && !isNumeric ? first : undefined;
  return { port, host, path, callback, options: {} };
}

const describeRequest = (request: ListenRequest): string => request.path ?? `port ${request.port ?? '(any)'}`;
export { describeRequest as describeListenRequest };

/**
 * Patches http.Server#listen for servers other than pcluster's own. The first server the app asks to listen
 * is adopted; a second one on the same port (Fastify's extra server for another address of `localhost`) is
 * told it listens and binds nothing; one on another port is refused.
 */
export function catchListen(events: ListenCatcherEvents, isOwn: (server: http.Server) => boolean): void {
  const proto = http.Server.prototype as unknown as { listen: Listen };
  const listen = proto.listen;
  let adopted: ListenRequest | undefined;
  proto.listen = function (this: http.Server, ...args: unknown[]): http.Server {
    if (isOwn(this)) return listen.apply(this, args);
    const { callback, options, ...request } = readListenArgs(args);
    if (adopted === undefined) {
      adopted = request;
      const target = events.adopt(this, request);
      const { path: _path, port: _port, host: _host, ...rest } = options;
      return listen.call(this, { ...rest, ...target }, ...(callback === undefined ? [] : [callback]));
    }
    if (request.port === adopted.port && request.path === adopted.path) {
      process.nextTick(() => {
        this.emit('listening');
        callback?.();
      });
      return this;
    }
    events.listenedTwice(adopted, request);
    return this;
  };
}
