import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

const KEPT_LINES = 50;
const PROBLEM = /\b(FATAL|PANIC|ERROR):/;

/** The server's output: each line goes to the caller's `log` (if any); the last 50 are kept for error messages. */
export class ServerLog {
  readonly #lines: string[] = [];
  readonly #forward: ((line: string) => void) | undefined;

  constructor(forward?: (line: string) => void) {
    this.#forward = forward;
  }

  write(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > KEPT_LINES) this.#lines.shift();
    try {
      this.#forward?.(line);
    } catch {
      // A failing log sink must not crash the process from inside a stream event.
    }
  }

  /** Forgets the kept lines, so that a failure is explained by this start's output only. */
  clear(): void {
    this.#lines.length = 0;
  }

  /** Forwards `stream` line by line until it ends. */
  follow(stream: Readable): void {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => this.write(line));
  }

  /** The lines that explain a failure, as one line: the last errors if there are any, else the last few lines. */
  summary(): string {
    const problems = this.#lines.filter((line) => PROBLEM.test(line));
    const chosen = problems.length > 0 ? problems.slice(-3) : this.#lines.slice(-5);
    return chosen.length === 0 ? '(no server output)' : chosen.map((line) => line.trim()).join(' | ');
  }
}
