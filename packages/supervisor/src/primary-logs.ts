import { createLogger, createLogStream, type Logger } from '@pcluster/worker-runtime/logger';
import { AccessLogWriter } from './access-log-writer.js';
import { LogFile } from './log-file.js';
import type { StartOptions } from './start-options.js';
import { WorkerOutput } from './worker-output.js';

/** How long a stopping primary waits for the workers' last output lines. */
const OUTPUT_DRAIN_MS = 1_000;

/**
 * Where the primary's lines go: one stream (stdout, or --log-file reopened on SIGUSR1) for its own log, the workers'
 * records and the app's output, so one reopen covers them all; and the --access-log writer.
 */
export class PrimaryLogs {
  readonly log: Logger;
  readonly output: WorkerOutput;
  readonly accessLog: AccessLogWriter | undefined;
  readonly #logFile: LogFile | undefined;

  constructor(options: Pick<StartOptions, 'logFile' | 'logFormat' | 'accessLog'>) {
    this.#logFile = options.logFile === undefined ? undefined : new LogFile(options.logFile);
    const stream = createLogStream(options.logFormat, this.#logFile?.destination);
    this.accessLog = options.accessLog === undefined ? undefined : new AccessLogWriter(options.accessLog, stream);
    this.log = createLogger({ stream, base: { role: 'primary', pid: process.pid } });
    this.output = new WorkerOutput(stream);
  }

  /** SIGUSR1: the log file is closed and opened again at its path (logrotate moved it). */
  reopen(): void {
    if (this.#logFile === undefined) return void this.log.info('SIGUSR1: no --log-file to reopen');
    this.#logFile.reopen();
    this.log.info({ logFile: this.#logFile.path }, 'log file reopened');
  }

  /** At stop: the access log written out, and the workers' last lines read. */
  async close(): Promise<void> {
    await this.accessLog?.close();
    await this.output.drained(OUTPUT_DRAIN_MS);
  }
}
