import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import type { Db } from './db-session.js';
import type { Logger } from './logger.js';
import { PclusterError } from './errors.js';

export interface LifecycleContext {
  readonly db: Db;
  readonly workerId: number;
  readonly log: Logger;
}
export type LifecycleHook = (context: LifecycleContext) => unknown;

/** A module with no request listener to serve: it may have called listen() itself (SPEC §2); `exported` says what it exports. */
export interface NoListener {
  readonly kind: 'none';
  readonly exported: string;
}

/** A handler module reduced to what the worker needs: one request listener and optional lifecycle hooks. */
export interface AppModule {
  readonly kind: 'listener' | 'koa' | 'fastify' | 'handler';
  readonly listener: (req: IncomingMessage, res: ServerResponse) => unknown;
  readonly setup?: LifecycleHook;
  readonly teardown?: LifecycleHook;
}

interface FastifyLike {
  ready(): PromiseLike<unknown>;
  routing(req: IncomingMessage, res: ServerResponse): void;
  close(): PromiseLike<unknown>;
}
interface KoaLike {
  callback(): RequestListener;
  use(...args: unknown[]): unknown;
}
interface ExpressLike {
  set(key: string, value: unknown): unknown;
  get(key: string): unknown;
  settings: Record<string, unknown>;
}

const isFunction = (value: unknown): value is (...args: any[]) => unknown => typeof value === 'function';
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

function isFastify(value: unknown): value is FastifyLike {
  return isObject(value) && isFunction(value['ready']) && isFunction(value['routing']) && isFunction(value['close']);
}
function isKoa(value: unknown): value is KoaLike {
  return isObject(value) && isFunction(value['callback']) && isFunction(value['use']) && Array.isArray(value['middleware']);
}
function isExpress(value: unknown): value is ExpressLike {
  return isFunction(value) && isFunction((value as unknown as ExpressLike).set) && isObject((value as unknown as ExpressLike).settings);
}

/** The module's exports, described for an error message: `default: object, named: foo, bar`; a CommonJS `{}` is nothing. */
function describeExports(namespace: Record<string, unknown>): string {
  const main = namespace['default'];
  const isEmptyCommonJs = isObject(main) && Object.getPrototypeOf(main) === Object.prototype && Object.keys(main).length === 0;
  const parts = Object.keys(namespace)
    .filter((key) => key !== 'module.exports' && !(key === 'default' && isEmptyCommonJs))
    .map((key) => `${key}: ${namespace[key] === null ? 'null' : typeof namespace[key]}`);
  return parts.length === 0 ? 'nothing' : parts.join(', ');
}

/** Why a module that neither exports a listener nor listens cannot run, and the forms that can (SPEC §2). */
export function noListenerMessage(appPath: string, exported: string, waitedMs: number | undefined): string {
  const what = exported === 'nothing' ? 'exports nothing' : `exports no request listener, Fastify instance or "handler" function (it exports ${exported})`;
  const listened = waitedMs === undefined ? '' : ` and did not call listen() within ${waitedMs / 1000}s (--timeout)`;
  return `${appPath} ${what}${listened}; export a (req, res) function as default or a named "handler", or start the server yourself with app.listen(port)`;
}

/**
 * Imports a handler module (CommonJS or ESM) and resolves its shape, in SPEC §2 order:
 * a request listener as default export, a Fastify instance, or a named `handler` export.
 */
export async function loadAppModule(appPath: string): Promise<AppModule | NoListener> {
  const namespace = (await import(pathToFileURL(appPath).href)) as Record<string, unknown>;
  const main = namespace['default'];
  if (isFunction(main)) {
    // Express's default error page shows the stack outside production; a client must only ever see a bare 500.
    if (isExpress(main) && process.env['NODE_ENV'] === undefined) main.set('env', 'production');
    return { kind: 'listener', listener: main };
  }
  if (isFastify(main)) {
    await main.ready();
    return { kind: 'fastify', listener: (req, res) => main.routing(req, res), teardown: () => main.close() };
  }
  if (isKoa(main)) return { kind: 'koa', listener: main.callback() };
  // module.exports first: for CommonJS, Node's detected named exports miss values it cannot see statically (`setup: async () => …`).
  const named = isObject(main) && isFunction(main['handler']) ? main : isFunction(namespace['handler']) ? namespace : undefined;
  if (named !== undefined) {
    const { setup, teardown } = named;
    for (const [hook, value] of [['setup', setup], ['teardown', teardown]] as const) {
      if (value !== undefined && !isFunction(value)) {
        throw new PclusterError('PCLUSTER_BAD_MODULE', `${appPath}: "${hook}" must be a function, it is ${typeof value}`);
      }
    }
    return {
      kind: 'handler',
      listener: named['handler'] as AppModule['listener'],
      ...(setup === undefined ? {} : { setup: setup as LifecycleHook }),
      ...(teardown === undefined ? {} : { teardown: teardown as LifecycleHook }),
    };
  }
  return { kind: 'none', exported: describeExports(namespace) };
}
