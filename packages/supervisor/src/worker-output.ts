import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { createLogger, PRIMARY_STDERR_FD, WORKER_LOG_FD, type Logger, type LogStream } from '@pcluster/worker-runtime/logger';
import { LineSplitter } from './line-splitter.js';

/**
 * A worker's stdio as the primary forks it: stdin is the primary's; stdout, stderr and the pipe of its pcluster
 * log records (WORKER_LOG_FD, after the IPC channel) are read by the primary; the primary's stderr stays open
 * on PRIMARY_STDERR_FD for what a worker must say when the primary is gone.
 */
export function workerStdio(): (number | 'pipe' | 'ipc')[] {
  const stdio: (number | 'pipe' | 'ipc')[] = [0, 'pipe', 'pipe', 'ipc'];
  stdio[WORKER_LOG_FD] = 'pipe';
  stdio[PRIMARY_STDERR_FD] = 2;
  return stdio;
}

/** The longest app line logged as one line; a longer one comes in pieces (container runtimes cut at 16 KiB). */
const MAX_APP_LINE_LENGTH = 64 * 1024;
/** A pcluster record longer than this is no record pcluster writes: its pieces are logged as text. */
const MAX_RECORD_LENGTH = 1024 * 1024;

/**
 * What workers print, brought into the primary's log stream (as gunicorn's capture_output): each line of the
 * app's stdout and stderr becomes a log line of its worker (slot and pid), and the worker's own pcluster log
 * records pass through as they are. Each goes out in one write, so lines of different workers never mix.
 */
export class WorkerOutput {
  readonly #stream: LogStream;
  readonly #appLog: Logger;
  readonly #open = new Set<Readable>();
  #onAllClosed: (() => void) | undefined;

  constructor(stream: LogStream) {
    this.#stream = stream;
    this.#appLog = createLogger({ stream, base: null });
  }

  /** Reads a forked worker's stdout, stderr and log pipe until they close; a fork the system refused has none. */
  follow(child: ChildProcess, slot: number): void {
    const log = this.#appLog.child({ worker: slot, pid: child.pid });
    this.#read(child.stdout, MAX_APP_LINE_LENGTH, (line) => log.info({ stream: 'stdout' }, line));
    this.#read(child.stderr, MAX_APP_LINE_LENGTH, (line) => log.error({ stream: 'stderr' }, line));
    this.#read((child.stdio as ChildProcess['stdio'] | undefined)?.[WORKER_LOG_FD] as Readable | null | undefined, MAX_RECORD_LENGTH, (line, isWhole) => {
      if (isWhole && line.startsWith('{')) this.#stream.write(`${line}\n`);
      else log.warn({ stream: 'pcluster' }, line);
    });
  }

  /** Resolves once every worker's output has been read to its end, or after `timeoutMs` (a process the app spawned may hold a pipe open). */
  drained(timeoutMs: number): Promise<void> {
    if (this.#open.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#onAllClosed = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #read(readable: Readable | null | undefined, maxLineLength: number, emit: (line: string, isWhole: boolean) => void): void {
    if (readable === null || readable === undefined) return;
    const splitter = new LineSplitter(maxLineLength, emit);
    this.#open.add(readable);
    readable.on('data', (chunk: Buffer) => splitter.push(chunk));
    readable.on('end', () => splitter.end());
    // A read error (the worker died mid-write) ends what can be read; it must not reach the primary as an exception.
    readable.on('error', () => {});
    readable.on('close', () => {
      this.#open.delete(readable);
      if (this.#open.size === 0) this.#onAllClosed?.();
    });
  }
}
