import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ClusterMetrics } from 'pcluster/internal/cluster-metrics';
import { WorkerMetrics } from '@pcluster/worker-runtime/internal/worker-metrics';
import { CLI, REPO_ROOT } from '../support/cluster-process.js';

const DOCS = path.join(REPO_ROOT, 'docs');
const docsText = (): string => readdirSync(DOCS).filter((file) => file.endsWith('.md')).map((file) => readFileSync(path.join(DOCS, file), 'utf8')).join('\n');

/** The long flags `pcluster <command> --help` lists: what yargs was given, so what users can type. */
async function helpFlags(command: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, command, '--help'], { cwd: REPO_ROOT });
  const flags = stdout.split('\n').flatMap((line) => /^\s+(?:-\w, )?--([a-z][a-z0-9-]*)/.exec(line)?.[1] ?? []);
  return flags.filter((flag) => flag !== 'help' && flag !== 'version');
}

describe('docs/ is the reference a clone of the repository carries', () => {
  it('names every flag of pcluster start, and of the control commands', async () => {
    const text = docsText();
    const [start, status] = await Promise.all([helpFlags('start'), helpFlags('status')]);
    expect(start).to.include.members(['workers', 'database-url', 'metrics-port', 'max-connections']);
    const missing = [...start, ...status].filter((flag) => !text.includes(`\`--${flag}`));
    expect(missing, 'flags the docs do not mention').to.deep.equal([]);
  });

  it('names every pcluster_* metric the primary and the workers register', () => {
    const text = docsText();
    const primary = new ClusterMetrics(() => [], 3).registry.getMetricsAsArray().map((metric) => metric.name);
    const worker = new WorkerMetrics(1);
    const histograms = Object.values(worker).flatMap((value: unknown) => (typeof (value as { name?: unknown })?.name === 'string' ? [(value as { name: string }).name] : []));
    const names = [...new Set([...primary, ...worker.registry.getMetricsAsArray().map((metric) => metric.name), ...histograms])].filter((name) => name.startsWith('pcluster_'));
    expect(names).to.include.members(['pcluster_workers', 'pcluster_db_connections', 'pcluster_db_lease_wait_seconds', 'pcluster_http_request_duration_seconds']);
    expect(names.filter((name) => !text.includes(`\`${name}\``)), 'metrics the docs do not mention').to.deep.equal([]);
  });

  it('README links the reference, not a file outside the repository', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    expect(readme).to.include('(docs/README.md)').and.not.to.include('../shared/SPEC.md');
  });
});
