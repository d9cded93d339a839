import { readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { preparePrivateDir } from './private-socket-dir.js';

/** One running primary as `pcluster ls` finds it, from any directory. */
export interface RegistryEntry {
  readonly name: string;
  readonly pid: number;
  readonly cwd: string;
  readonly app: string;
  readonly controlSocket: string;
  readonly logFile: string | null;
  readonly workers: number;
  readonly startedAt: string;
}

/**
 * The per-user directory where every primary registers: `$XDG_RUNTIME_DIR/pcluster` (systemd's per-user
 * runtime directory), else `<tmp>/pcluster-<uid>`. Another user must not plant entries there: it is
 * checked with lstat to be this user's own, mode 0700.
 */
export function registryDir(env: NodeJS.ProcessEnv = process.env): string {
  const runtime = env['XDG_RUNTIME_DIR'];
  if (runtime !== undefined && runtime !== '' && path.isAbsolute(runtime)) return path.join(runtime, 'pcluster');
  return path.join(os.tmpdir(), `pcluster-${process.getuid?.() ?? os.userInfo().username}`);
}

const FIX = 'remove it (or chmod 700 it if it is yours), or set XDG_RUNTIME_DIR to a directory only you can write';

function openRegistry(): string {
  const dir = registryDir();
  preparePrivateDir(dir, 'cluster registry directory', FIX);
  return dir;
}

/** Registers this primary (`<pid>.json`, written atomically); returns the function that deregisters it. */
export function register(entry: RegistryEntry): () => void {
  const dir = openRegistry();
  const file = path.join(dir, `${entry.pid}.json`);
  const temp = `${file}.tmp`;
  writeFileSync(temp, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  renameSync(temp, file);
  return () => removeEntry(file);
}

/** Every registered entry with its file, unreadable ones skipped (a registration half written by a killed primary). */
export function readEntries(): { readonly file: string; readonly entry: RegistryEntry }[] {
  const dir = openRegistry();
  return readdirSync(dir)
    .filter((name) => /^\d+\.json$/.test(name))
    .flatMap((name) => {
      const file = path.join(dir, name);
      try {
        return [{ file, entry: JSON.parse(readFileSync(file, 'utf8')) as RegistryEntry }];
      } catch {
        return [];
      }
    });
}

export function removeEntry(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}
