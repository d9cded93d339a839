import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from './usage-error.js';

const TYPESCRIPT_ENTRY = /\.[cm]?ts$/;
/** Node options by which the user already chose how modules load: pcluster then adds no loader of its own. */
const LOADER_OPTION = /^(--import|--loader|--experimental-loader|--require|-r|--experimental-strip-types|--experimental-transform-types)(=|$)/;

/** Resolves `specifier` as `require()` would from `fromFile`; undefined when it cannot be found. */
export type ResolveFrom = (specifier: string, fromFile: string) => string | undefined;

export const resolveFromFile: ResolveFrom = (specifier, fromFile) => {
  try {
    return createRequire(fromFile).resolve(specifier);
  } catch {
    return undefined;
  }
};

/**
 * The worker node arguments that run a TypeScript app (`.ts`, `.mts`, `.cts`) through the app's own `tsx` (SPEC §2):
 * none for JavaScript, or when `chosen` (the workers' node options from every source) already names a loader.
 * Throws a UsageError naming the app and the fix when no tsx is reachable from the app's directory.
 */
export function typescriptLoaderArgs(appPath: string, chosen: readonly string[], resolveFrom: ResolveFrom = resolveFromFile): string[] {
  if (!TYPESCRIPT_ENTRY.test(appPath) || appPath.endsWith('.d.ts')) return [];
  if (chosen.some((arg) => LOADER_OPTION.test(arg))) return [];
  const tsx = resolveFrom('tsx', appPath);
  if (tsx === undefined) {
    throw new UsageError(
      `${appPath} is TypeScript, but no tsx is installed where it can be found (from ${path.dirname(appPath)}); ` +
        `run "npm install --save-dev tsx" in the app's project, or name a loader with --node-arg=--import=<loader>`,
    );
  }
  return [`--import=${pathToFileURL(tsx).href}`];
}
