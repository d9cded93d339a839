/**
 * What the app's bare imports resolve to inside a worker, from the app and from every library in its
 * node_modules alike: `require`/`import` of `pg` give the stand-ins (SPEC §2.1, with --pg-compat on),
 * and `@pcluster/worker-runtime` gives the worker's own runtime, so `import { db }` works in an app
 * that installed only the pcluster package (npm keeps the runtime inside it). pcluster's own modules
 * keep the real node-postgres.
 */
import Module, { createRequire, register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initialize, resolve, RUNTIME_PACKAGE, type HookData } from './resolve-hooks.js';
import { pgStandIn } from './pg-stand-ins.js';

const RUNTIME_DIR = path.dirname(fileURLToPath(import.meta.url));
const RUNTIME_INDEX = path.join(RUNTIME_DIR, 'index.js');

type Load = (request: string, parent: { filename?: string | null } | null | undefined, isMain: boolean) => unknown;

/** Whether the app at `appPath` resolves the runtime by itself (installed beside pcluster, or in this repository). */
function appResolvesRuntime(appPath: string): boolean {
  try {
    createRequire(appPath).resolve(RUNTIME_PACKAGE);
    return true;
  } catch {
    return false;
  }
}

export function installModuleHooks(options: { readonly pg: boolean; readonly appPath: string }): void {
  // Hooks cost a loader thread on Node < 22.15 (~10 MB per worker): none when nothing needs mapping.
  const runtime = !appResolvesRuntime(options.appPath);
  if (!options.pg && !runtime) return;
  const loader = Module as unknown as { _load: Load };
  const load = loader._load;
  loader._load = function (this: unknown, request, parent, isMain) {
    if (options.pg && request === 'pg' && !(parent?.filename ?? '').startsWith(RUNTIME_DIR + path.sep)) return pgStandIn;
    if (runtime && request === RUNTIME_PACKAGE) return load.call(this, RUNTIME_INDEX, parent, isMain);
    return load.call(this, request, parent, isMain);
  };
  const data: HookData = {
    pgEntry: options.pg ? new URL('./pg-compat-entry.js', import.meta.url).href : undefined,
    runtimeEntry: runtime ? pathToFileURL(RUNTIME_INDEX).href : undefined,
    runtimeDir: pathToFileURL(RUNTIME_DIR).href + '/',
  };
  // Node ≥ 22.15 runs resolve hooks in this thread; before that, register() starts a loader thread.
  const { registerHooks } = Module as unknown as { registerHooks?: (hooks: { resolve: typeof resolve }) => unknown };
  if (registerHooks !== undefined) {
    initialize(data);
    registerHooks({ resolve });
  } else register(new URL('./resolve-hooks.js', import.meta.url), { data });
}
