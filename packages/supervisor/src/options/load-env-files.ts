import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import type { Source } from './parse-values.js';
import { UsageError } from './usage-error.js';

/** The --env-file files to load (absolute paths) and where they were named, for messages. */
export interface EnvFiles {
  readonly files: readonly string[];
  readonly source: Source;
}

/**
 * Loads env files into `env` as Node's own `--env-file` does: a variable already in the environment is kept, and a
 * later file wins over an earlier one (`process.loadEnvFile()` called in turn would let the first file win).
 * Returns the names it set. A file that cannot be read is a UsageError naming it.
 */
export function loadEnvFiles({ files, source }: EnvFiles, env: NodeJS.ProcessEnv): string[] {
  const merged: Record<string, string> = {};
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
      throw new UsageError(`${source}: cannot read ${file}: ${reason}; give the path of a file of KEY=value lines`);
    }
    Object.assign(merged, parseEnv(text));
  }
  const set = Object.keys(merged).filter((name) => env[name] === undefined);
  for (const name of set) env[name] = merged[name];
  return set;
}
