import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from './usage-error.js';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads a `--config` file: JSON, or a .js/.mjs/.cjs module whose default export is an object (or a function returning one). */
export async function loadConfigFile(file: string, cwd: string): Promise<Record<string, unknown>> {
  const absolute = path.resolve(cwd, file);
  let config: unknown;
  if (/\.(c|m)?js$/.test(absolute)) {
    let namespace: { default?: unknown };
    try {
      namespace = (await import(pathToFileURL(absolute).href)) as { default?: unknown };
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' ? 'file not found' : (error as Error).message;
      throw new UsageError(`--config: cannot load ${file}: ${reason.split('\n')[0]}`);
    }
    config = typeof namespace.default === 'function' ? await (namespace.default as () => unknown)() : namespace.default;
  } else {
    let text: string;
    try {
      text = await readFile(absolute, 'utf8');
    } catch (error) {
      throw new UsageError(`--config: cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message}`);
    }
    try {
      config = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`--config: ${file} is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (!isPlainObject(config)) throw new UsageError(`--config: ${file} must hold an object of start options (e.g. { "workers": 4 })`);
  return config;
}
