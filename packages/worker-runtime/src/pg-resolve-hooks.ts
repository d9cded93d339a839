/** Module resolve hooks (they run on Node's loader thread): `import 'pg'` outside pcluster's own modules gets the stand-ins. */
interface HookData {
  readonly entry: string;
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
  if (specifier === 'pg' && data !== undefined && !(context.parentURL ?? '').startsWith(data.runtimeDir)) {
    return { url: data.entry, shortCircuit: true };
  }
  return next(specifier, context);
}
