import cluster from 'node:cluster';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { pino, type DestinationStream } from 'pino';

/**
 * The primary's `--log-file`: appended to one whole line per write, and reopened on `SIGUSR1`
 * so that logrotate can rename it and the next line starts a new file (as gunicorn and nginx do).
 * The workers' output is copied in by the primary, so the reopen reaches their lines too.
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

  /** Copies every worker's stdout and stderr (forked `silent`) into the file, line by line, so no line breaks into another. */
  forwardWorkers(): void {
    cluster.on('fork', (worker) => {
      for (const output of [worker.process.stdout, worker.process.stderr]) if (output !== null) this.#forward(output);
    });
  }

  #forward(output: Readable): void {
    readline.createInterface({ input: output, crlfDelay: Infinity }).on('line', (line) => this.#stream.write(`${line}\n`));
  }
}
