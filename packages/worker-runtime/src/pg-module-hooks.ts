/**
 * Makes the app's own `pg` resolve to the stand-ins (SPEC §2.1): `require('pg')` through CommonJS'
 * loader, `import … from 'pg'` through a resolve hook, from the app and from every library in its
 * node_modules alike. pcluster's own modules keep the real node-postgres.
 */
import Module, { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initialize, resolve } from './pg-resolve-hooks.js';
import { pgStandIn } from './pg-stand-ins.js';

const RUNTIME_DIR = path.dirname(fileURLToPath(import.meta.url));

type Load = (request: string, parent: { filename?: string | null } | null | undefined, isMain: boolean) => unknown;

export function installPgModuleHooks(): void {
  const loader = Module as unknown as { _load: Load };
  const load = loader._load;
  loader._load = function (this: unknown, request, parent, isMain) {
    if (request === 'pg' && !(parent?.filename ?? '').startsWith(RUNTIME_DIR + path.sep)) return pgStandIn;
    return load.call(this, request, parent, isMain);
  };
  const data = { entry: new URL('./pg-compat-entry.js', import.meta.url).href, runtimeDir: pathToFileURL(RUNTIME_DIR).href + '/' };
  // Node ≥ 22.15 runs resolve hooks in this thread; before that, register() starts a loader thread (~10 MB per worker).
  const { registerHooks } = Module as unknown as { registerHooks?: (hooks: { resolve: typeof resolve }) => unknown };
  if (registerHooks !== undefined) {
    initialize(data);
    registerHooks({ resolve });
  } else register(new URL('./pg-resolve-hooks.js', import.meta.url), { data });
}
