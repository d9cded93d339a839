import autocannon from 'autocannon';

export interface LoadOutcome {
  readonly requests: number;
  /** Connection errors, timeouts and non-2xx answers: every request that did not succeed. */
  readonly failures: number;
  /** The failures by cause: socket errors, client timeouts, non-2xx answers. */
  readonly causes: { readonly socketErrors: number; readonly timeouts: number; readonly non2xx: number };
  readonly statusCodes: Record<string, number>;
}

/** Keep-alive load on `url` until `stop()` is called; resolves with what the clients saw. */
export function startLoad(url: string, connections = 16, seconds = 600): { stop(): Promise<LoadOutcome> } {
  let finish: (result: autocannon.Result) => void = () => {};
  const finished = new Promise<autocannon.Result>((resolve) => (finish = resolve));
  const instance = autocannon({ url, connections, duration: seconds, pipelining: 1, timeout: 20 }, (_error, result) => finish(result));
  return {
    async stop() {
      instance.stop();
      const result = await finished;
      const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, (stats as { count: number }).count]));
      const causes = { socketErrors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx };
      return { requests: result.requests.total, failures: result.errors + result.timeouts + result.non2xx, causes, statusCodes };
    },
  };
}
