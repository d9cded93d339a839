/**
 * Module resolve hooks (on Node's loader thread before 22.15): `import 'pg'` outside pcluster's own modules
 * gets the stand-ins, `import '@pcluster/worker-runtime'` the worker's own runtime, each when asked for.
 */
export const RUNTIME_PACKAGE = '@pcluster/worker-runtime';

export interface HookData {
  readonly pgEntry: string | undefined;
  readonly runtimeEntry: string | undefined;
  readonly runtimeDir: string;
}
interface ResolveContext {
  readonly parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => unknown;

let data: HookData | undefined;

export function initialize(hookData: HookData): void {
  data = hookData;
}

export function resolve(specifier: string, context: ResolveContext, next: NextResolve): unknown {
  if (data?.pgEntry !== undefined && specifier === 'pg' && !(context.parentURL ?? '').startsWith(data.runtimeDir)) {
    return { url: data.pgEntry, shortCircuit: true };
  }
  if (data?.runtimeEntry !== undefined && specifier === RUNTIME_PACKAGE) return { url: data.runtimeEntry, shortCircuit: true };
  return next(specifier, context);
}
