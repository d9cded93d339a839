/**
 * A worker's access log (gunicorn's, nginx's): one line per finished request, in the combined log format plus the
 * duration, or as a JSON line. Lines are batched and sent to the primary, the one writer of the log: a worker
 * writing itself could split a line of a batch larger than a pipe's atomic write between other workers' lines.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WorkerMessage } from './protocol.js';

/** A batch goes out once it is this long, or after FLUSH_DELAY_MS: one IPC message per batch, not per request. */
const FLUSH_BYTES = 64 * 1024;
const FLUSH_DELAY_MS = 50;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad = (n: number): string => String(n).padStart(2, '0');

/** `06/Dec/2026:04:10:25 +0000`, the combined format's time, in UTC. */
export function commonLogTime(date: Date): string {
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** A quoted field's text with `"`, `\` and control characters as \xHH (nginx's escaping), so a line stays one line. */
const escapeField = (text: string): string => text.replace(/["\\\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** What the access log records of one request. */
export interface AccessEntry {
  readonly remote: string | undefined;
  readonly method: string;
  readonly path: string;
  readonly httpVersion: string;
  readonly status: number;
  readonly bytes: number;
  readonly referer: string | undefined;
  readonly userAgent: string | undefined;
  readonly durationSeconds: number;
}

/** The combined log format line plus the duration in seconds: `remote - - [time] "GET / HTTP/1.1" 200 12 "referer" "agent" 0.001234`. */
export function combinedLine(entry: AccessEntry, time: Date): string {
  const request = escapeField(`${entry.method} ${entry.path} HTTP/${entry.httpVersion}`);
  const quoted = (value: string | undefined): string => `"${value === undefined ? '-' : escapeField(value)}"`;
  return `${entry.remote ?? '-'} - - [${commonLogTime(time)}] "${request}" ${entry.status} ${entry.bytes} ${quoted(entry.referer)} ${quoted(entry.userAgent)} ${entry.durationSeconds.toFixed(6)}`;
}

/** The JSON line: the same fields, with the worker's slot and pid. */
export function jsonLine(entry: AccessEntry, time: Date, worker: number, pid: number): string {
  return JSON.stringify({
    time: time.toISOString(), msg: 'access', worker, pid, remote: entry.remote ?? null, method: entry.method, path: entry.path,
    httpVersion: entry.httpVersion, status: entry.status, bytes: entry.bytes, duration: Number(entry.durationSeconds.toFixed(6)),
    referer: entry.referer ?? null, userAgent: entry.userAgent ?? null,
  });
}

/** Counts the body bytes `res` writes (what the combined format's %b reports). */
function countBodyBytes(res: ServerResponse): () => number {
  let bytes = 0;
  const count = (chunk: unknown, encoding: unknown): void => {
    if (typeof chunk === 'string') bytes += Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    else if (chunk instanceof Uint8Array) bytes += chunk.byteLength;
  };
  const { write, end } = res;
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    count(chunk, rest[0]);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    if (typeof chunk !== 'function') count(chunk, rest[0]);
    return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as ServerResponse['end'];
  return () => bytes;
}

/** Formats each finished request's line and sends the lines to the primary in batches. */
export class AccessLog {
  readonly #format: 'combined' | 'json';
  readonly #worker: number;
  readonly #send: (message: WorkerMessage) => Promise<void>;
  #pending = '';
  #timer: NodeJS.Timeout | undefined;

  constructor(format: 'combined' | 'json', worker: number, send: (message: WorkerMessage) => Promise<void>) {
    this.#format = format;
    this.#worker = worker;
    this.#send = send;
  }

  /** Starts counting `res`'s body; call the returned function when the response is done (with its start time). */
  begin(req: IncomingMessage, res: ServerResponse): (startedAt: number) => void {
    const bytes = countBodyBytes(res);
    return (startedAt) => {
      const entry: AccessEntry = {
        remote: req.socket.remoteAddress, method: req.method ?? '-', path: req.url ?? '-', httpVersion: req.httpVersion, status: res.statusCode,
        bytes: bytes(), referer: req.headers.referer, userAgent: req.headers['user-agent'], durationSeconds: (performance.now() - startedAt) / 1000,
      };
      const now = new Date();
      this.#append(this.#format === 'json' ? jsonLine(entry, now, this.#worker, process.pid) : combinedLine(entry, now));
    };
  }

  #append(line: string): void {
    this.#pending += `${line}\n`;
    if (this.#pending.length >= FLUSH_BYTES) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
  }

  /** Sends what is pending (a draining worker calls it before it exits). */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending === '') return;
    const lines = this.#pending;
    this.#pending = '';
    await this.#send({ type: 'pcluster:access-log', lines });
  }
}
