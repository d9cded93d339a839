import { pino, type DestinationStream } from 'pino';

/**
 * The primary's `--log-file`: appended to one whole line per write, and reopened on `SIGUSR1`
 * so that logrotate can rename it and the next line starts a new file (as gunicorn and nginx do).
 * The workers' output reaches it through the primary's log stream (worker-output.ts), so the reopen covers their lines too.
 */
export class LogFile {
  readonly path: string;
  readonly #stream: ReturnType<typeof pino.destination>;

  constructor(path: string) {
    this.path = path;
    // Synchronous writes: a line is in the file before the next log call, and nothing is lost when the primary exits.
    this.#stream = pino.destination({ dest: path, append: true, mkdir: true, sync: true });
  }

  /** The stream a pino logger writes to. */
  get destination(): DestinationStream {
    return this.#stream;
  }

  /** Closes the current file and opens the path again: after a rename, a new file appears there. */
  reopen(): void {
    this.#stream.reopen();
  }
}
