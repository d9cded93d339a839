import net from 'node:net';

/** A loopback address as the server reports its bound one (IPv4-mapped included). */
function isLoopbackAddress(address: string): boolean {
  return /^(::ffff:)?127\./i.test(address) || address === '::1';
}

/** A name or IPv4 address, or a bracketed IPv6 address, then an optional port: nothing a URL would read as more. */
const HOST_SYNTAX = /^([a-z0-9._-]+|\[[0-9a-f:.]+\])(:\d{1,5})?$/i;

/** `localhost` and its subdomains (RFC 6761): browsers resolve them to loopback themselves, never through DNS. */
const isLocalhostName = (name: string): boolean => name === 'localhost' || name.endsWith('.localhost');

/**
 * Whether a request's Host header may be answered by a server bound to `bound` (the address it listens on) and
 * configured as `configuredHost` (--metrics-host). Bound to loopback, only localhost, an IP address or the configured
 * name will do: any other name is a DNS name someone else controls, pointed at 127.0.0.1 by a web page (DNS rebinding)
 * to read /status from the user's browser. Bound beyond loopback, the port is reachable from the network by choice and
 * scrapers name it as they like (Prometheus sends its target's address), so any Host is answered.
 */
export function isAllowedHost(hostHeader: string | undefined, bound: string, configuredHost: string): boolean {
  if (!isLoopbackAddress(bound)) return true;
  if (hostHeader === undefined) return true; // HTTP/1.0 without Host: no browser sends that
  if (!HOST_SYNTAX.test(hostHeader)) return false;
  let name: string;
  try {
    name = new URL(`http://${hostHeader}`).hostname.replace(/\.$/, '');
  } catch {
    return false;
  }
  const bare = name.startsWith('[') ? name.slice(1, -1) : name;
  return net.isIP(bare) !== 0 || isLocalhostName(name) || name === configuredHost.toLowerCase().replace(/\.$/, '');
}
