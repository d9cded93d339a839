import { closeSync, openSync } from 'node:fs';
import sonicBoom, { type SonicBoom as SonicBoomStream } from 'sonic-boom';

// sonic-boom is CommonJS: its class comes through the default export.
const { SonicBoom } = sonicBoom;
import { UsageError } from './options/index.js';

/**
 * The access log's one writer, in the primary (--access-log): the workers send their lines here, so lines never
 * interleave mid-line, and the file stays the primary's (a worker that dropped to --user need not write it).
 * A file is opened for appending and reopened on SIGUSR1, after logrotate moved it; `-` is the primary's stdout.
 */
export class AccessLogWriter {
  readonly #stream: SonicBoomStream;
  readonly #isFile: boolean;
  readonly #reopen = (): void => this.#stream.reopen();

  /** Opens `destination` (a path, or `-`); a file that cannot be opened is a usage error naming it. */
  constructor(destination: string) {
    this.#isFile = destination !== '-';
    if (!this.#isFile) {
      // Synchronous, as the logger's own writes to stdout are: the two never split each other's lines.
      this.#stream = new SonicBoom({ fd: 1, sync: true });
      return;
    }
    try {
      closeSync(openSync(destination, 'a'));
    } catch (error) {
      throw new UsageError(`--access-log: cannot open ${destination} (${(error as NodeJS.ErrnoException).code}); give a file in a directory that exists and is writable, or - for the log stream`);
    }
    this.#stream = new SonicBoom({ dest: destination, append: true, sync: false });
    process.on('SIGUSR1', this.#reopen);
  }

  /** Appends lines that each end in a newline. */
  write(lines: string): void {
    this.#stream.write(lines);
  }

  /** Writes what is buffered and closes the file. */
  close(): Promise<void> {
    process.off('SIGUSR1', this.#reopen);
    if (!this.#isFile) return Promise.resolve();
    return new Promise((resolve) => {
      this.#stream.once('close', () => resolve());
      this.#stream.end();
    });
  }
}
