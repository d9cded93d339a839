import { debianTools } from './debian-tools.js';

/**
 * promtool and prometheus from Debian's `prometheus` package: found on PATH, or installed
 * now when this process may (root with apt-get). Otherwise the reason they are missing.
 */
export function prometheusTools(): Promise<{ promtool: string; prometheus: string } | { missing: string }> {
  return debianTools('prometheus', ['promtool', 'prometheus']);
}
