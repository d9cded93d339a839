/** What a request got: the status, and the JSON body (undefined when the body was not JSON, e.g. a bare 500). */
export interface Outcome {
  readonly status: number;
  readonly body: Record<string, any> | undefined;
}

/** Starts a GET now; its outcome is read later (a test may start several and let them wait on the server together). */
export function request(url: string): Promise<Outcome> {
  return fetch(url, { signal: AbortSignal.timeout(30_000) }).then(async (response) => {
    const text = await response.text();
    try {
      return { status: response.status, body: JSON.parse(text) as Record<string, any> };
    } catch {
      return { status: response.status, body: undefined };
    }
  });
}

/** GETs every url, at most `concurrency` at a time; the outcomes in the order of `urls`. */
export async function requestAll(urls: readonly string[], concurrency: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(urls.length);
  let next = 0;
  const client = async (): Promise<void> => {
    for (let index = next++; index < urls.length; index = next++) outcomes[index] = await request(urls[index]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, urls.length) }, client));
  return outcomes;
}
