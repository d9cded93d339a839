/** GET (or another method) and parse the JSON body; throws on a non-JSON body. */
export async function getJson<T = Record<string, any>>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const response = await fetch(url, init);
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as T };
  } catch {
    throw new Error(`${url} answered ${response.status} with a non-JSON body: ${text.slice(0, 200)}`);
  }
}

/** The value of one Prometheus sample, e.g. metricValue(text, 'pcluster_workers{state="ready"}'). */
export function metricValue(text: string, sample: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  return undefined;
}
