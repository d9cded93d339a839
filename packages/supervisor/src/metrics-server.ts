import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isAllowedHost } from './is-allowed-host.js';
import { UsageError } from './options/index.js';
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

/** What to do about a listen error the user can fix, by its errno. */
const FIXES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is already in use (another pcluster?); stop what listens there or choose another --metrics-port',
  EACCES: 'permission denied; ports below 1024 need privileges: choose a --metrics-port of 1024 or more',
  EADDRNOTAVAIL: 'the address is not one of this host\'s; choose another --metrics-host',
};

/**
 * Listens for the metrics endpoints, or rejects with one line naming --metrics-port and the fix: a UsageError
 * (exit 2, SPEC §1) for the errors above, which the user fixes with a flag, a plain error for any other.
 */
export function listenMetrics(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const fix = error.code === undefined ? undefined : FIXES[error.code];
      const where = `cannot listen for metrics on ${host}:${port} (--metrics-port ${port})`;
      reject(fix === undefined ? new Error(`${where}: ${error.message}`) : new UsageError(`${where}: ${fix} (${error.code})`));
    });
    server.listen({ port, host }, () => resolve());
  });
}
