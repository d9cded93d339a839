import { closeSync, openSync } from 'node:fs';
import sonicBoom, { type SonicBoom as SonicBoomStream } from 'sonic-boom';

// sonic-boom is CommonJS: its class comes through the default export.
const { SonicBoom } = sonicBoom;
import type { LogStream } from '@pcluster/worker-runtime/logger';
import { UsageError } from './options/index.js';

/**
 * The access log's one writer, in the primary (--access-log): the workers send their lines here, so lines never
 * interleave mid-line, and the file stays the primary's (a worker that dropped to --user need not write it).
 * A file is opened for appending and reopened on SIGUSR1, after logrotate moved it; `-` is the primary's log stream
 * (stdout, or --log-file).
 */
export class AccessLogWriter {
  readonly #stream: LogStream;
  #file: SonicBoomStream | undefined;
  readonly #reopen = (): void => this.#file?.reopen();

  /** Opens `destination` (a path, or `-` for `logStream`); a file that cannot be opened is a usage error naming it. */
  constructor(destination: string, logStream: LogStream) {
    if (destination === '-') {
      // The logger's own stream: its writes are whole lines, so the two never split each other's.
      this.#stream = logStream;
      return;
    }
    try {
      closeSync(openSync(destination, 'a'));
    } catch (error) {
      throw new UsageError(`--access-log: cannot open ${destination} (${(error as NodeJS.ErrnoException).code}); give a file in a directory that exists and is writable, or - for the log stream`);
    }
    this.#file = new SonicBoom({ dest: destination, append: true, sync: false });
    this.#stream = this.#file;
    process.on('SIGUSR1', this.#reopen);
  }

  /** Appends lines that each end in a newline. */
  write(lines: string): void {
    this.#stream.write(lines);
  }

  /** Writes what is buffered and closes the file. */
  close(): Promise<void> {
    process.off('SIGUSR1', this.#reopen);
    const file = this.#file;
    if (file === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      file.once('close', () => resolve());
      file.end();
    });
  }
}
