import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isAllowedHost } from './is-allowed-host.js';
import type { StatusReport } from './status-report.js';

export interface MetricsSource {
  metrics(): Promise<string>;
  status(): Promise<StatusReport>;
  isReady(): boolean;
}

/**
 * The primary's operations endpoint: /metrics (Prometheus), /healthz, /readyz, /status. Bound to loopback, it answers
 * only requests addressed to localhost, an IP address or `configuredHost` (--metrics-host): see isAllowedHost.
 */
export function createMetricsServer(source: MetricsSource, configuredHost: string): http.Server {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (statusCode: number, contentType: string, body: string): void => {
      res.writeHead(statusCode, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const bound = (server.address() as AddressInfo).address;
    if (!isAllowedHost(req.headers.host, bound, configuredHost)) {
      return reply(403, 'text/plain', `Host refused: the metrics server on ${bound} answers only requests addressed to localhost, an IP address or --metrics-host\n`);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'text/plain', 'method not allowed\n');
    switch (path) {
      case '/metrics':
        source.metrics().then(
          (text) => reply(200, 'text/plain; version=0.0.4; charset=utf-8', text),
          () => reply(500, 'text/plain', 'metrics collection failed\n'),
        );
        return;
      case '/status':
        source.status().then(
          (report) => reply(200, 'application/json', `${JSON.stringify(report)}\n`),
          () => reply(500, 'text/plain', 'status collection failed\n'),
        );
        return;
      case '/healthz':
        return reply(200, 'text/plain', 'ok\n');
      case '/readyz':
        return source.isReady() ? reply(200, 'text/plain', 'ready\n') : reply(503, 'text/plain', 'no worker is ready with an open connection\n');
      default:
        return reply(404, 'text/plain', 'not found; try /metrics, /healthz, /readyz or /status\n');
    }
  });
  return server;
}

/** Listens, or rejects with a one-line error naming the address. */
export function listenOn(server: http.Server, port: number, host: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(`cannot listen for ${what} on ${host}:${port}: ${error.code ?? error.message}; choose another port`)),
    );
    server.listen({ port, host }, () => resolve());
  });
}
