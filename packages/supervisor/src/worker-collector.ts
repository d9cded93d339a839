import type { WorkerMessage, WorkerMetrics } from '@pcluster/worker-runtime/protocol';
import { keepTotals } from './cluster-metrics.js';
import type { WorkerHandle } from './worker-handle.js';

type Collected = Extract<WorkerMessage, { type: 'pcluster:collected' }>;

/**
 * Asks live workers for their metrics and status over IPC. A worker still loading (before its
 * hello) is not asked: it could not hear the question, and a scrape or `status` during every
 * boot and reload would wait out the timeout for it. A worker that exits has its questions
 * settled at once; one that does not answer within the timeout (blocked) is left out and
 * counted as a miss instead of failing the scrape. Concurrent scrapes share one round of questions.
 */
export class WorkerCollector {
  readonly #timeoutMs: number;
  readonly #onMissed: () => void;
  readonly #waiting = new Map<number, { readonly handle: WorkerHandle; readonly settle: (message: Collected | undefined) => void }>();
  #nextRequestId = 1;
  #inFlight: Promise<WorkerMetrics[]> | undefined;
  #statusInFlight: Promise<unknown> | undefined;
  /** `onMissed` is told each time a worker does not answer in time. */
  constructor(timeoutMs: number, onMissed: () => void = () => {}) {
    this.#timeoutMs = timeoutMs;
    this.#onMissed = onMissed;
  }

  /** Metrics of every worker that answered; each answering handle's status is updated on the way. */
  collect(handles: readonly WorkerHandle[]): Promise<WorkerMetrics[]> {
    this.#inFlight ??= this.#collectRound(handles, true).finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** Fresh status of every worker that answers (no metrics: cheap enough to poll). */
  async refreshStatus(handles: readonly WorkerHandle[]): Promise<void> {
    this.#statusInFlight ??= this.#collectRound(handles, false).finally(() => {
      this.#statusInFlight = undefined;
    });
    await this.#statusInFlight;
  }

  /** Routes a worker's answer to the question it belongs to. */
  answered(message: Collected): void {
    this.#waiting.get(message.requestId)?.settle(message);
  }

  /** The worker has exited: its open questions are settled without an answer (not a miss). */
  forget(handle: WorkerHandle): void {
    for (const question of [...this.#waiting.values()]) if (question.handle === handle) question.settle(undefined);
  }

  async #collectRound(handles: readonly WorkerHandle[], withMetrics: boolean): Promise<WorkerMetrics[]> {
    const answers = await Promise.all(handles.filter((handle) => handle.helloAt !== undefined).map((handle) => this.#ask(handle, withMetrics)));
    return answers.filter((metrics): metrics is WorkerMetrics => metrics !== undefined);
  }

  #ask(handle: WorkerHandle, withMetrics: boolean): Promise<WorkerMetrics | undefined> {
    const requestId = this.#nextRequestId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(requestId);
        this.#onMissed();
        resolve(undefined);
      }, this.#timeoutMs);
      this.#waiting.set(requestId, {
        handle,
        settle: (message) => {
          clearTimeout(timer);
          this.#waiting.delete(requestId);
          if (message === undefined) return resolve(undefined);
          handle.update(message.status, Date.now());
          if (message.metrics !== null) handle.lastTotals = keepTotals(message.metrics);
          resolve(message.metrics ?? undefined);
        },
      });
      try {
        handle.process.send({ type: 'pcluster:collect', requestId, withMetrics });
      } catch {
        // The channel closed under us: the worker is exiting, the timer settles this question.
      }
    });
  }
}
