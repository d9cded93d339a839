import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ServerLog } from './server-log.js';
import { runAs, type ServerOsUser } from './server-os-user.js';

const STOP_TIMEOUT_MS = 15_000;

/** One `postgres` child process, from spawn to exit; its output goes to the server log. */
export class Postmaster {
  /** Settles when the process has exited (or could not be spawned). */
  readonly exited: Promise<void>;
  readonly #child: ChildProcess;
  #hasExited = false;

  constructor(binDir: string, args: readonly string[], osUser: ServerOsUser | undefined, log: ServerLog, ownProcessGroup = false) {
    const child = spawn(path.join(binDir, 'postgres'), args, {
      ...runAs(osUser),
      cwd: os.tmpdir(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: ownProcessGroup,
    });
    this.#child = child;
    this.exited = new Promise((resolve) => {
      const onGone = (why: string): void => {
        if (this.#hasExited) return;
        this.#hasExited = true;
        log.write(`pcluster: postgres ${why}`);
        resolve();
      };
      child.once('exit', (code, signal) => onGone(`exited (${signal ?? `code ${code}`})`));
      child.once('error', (error) => onGone(`could not be started: ${error.message}`));
    });
    log.follow(child.stdout!);
    log.follow(child.stderr!);
  }

  get hasExited(): boolean {
    return this.#hasExited;
  }

  /** Lets Node exit while the server runs (stop() and the exit safety net still end it). */
  unref(): void {
    this.#child.unref();
    for (const stream of [this.#child.stdout, this.#child.stderr]) (stream as Socket | null)?.unref();
  }

  /** 'fast' = SIGINT, 'immediate' = SIGQUIT; SIGKILL if it has not exited after 15 s. Resolves once it has exited. */
  async stop(mode: 'fast' | 'immediate'): Promise<void> {
    if (this.#hasExited) return;
    this.#child.ref(); // the awaited exit must keep Node alive
    this.#child.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** Synchronous last resort at process exit: immediate shutdown, not awaited. */
  quit(): void {
    if (!this.#hasExited) this.#child.kill('SIGQUIT');
  }
}
