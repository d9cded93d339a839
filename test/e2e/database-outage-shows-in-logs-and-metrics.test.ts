import { expect } from 'chai';
import { startCluster, fixture, type ClusterProcess, type LogLine } from '../support/cluster-process.js';
import { metricValue } from '../support/http.js';
import { useOwnPostgres } from '../support/own-postgres.js';
import { waitFor } from '../support/wait-for.js';

const scrape = async (cluster: ClusterProcess): Promise<string> => (await fetch(`${cluster.metricsUrl}/metrics`)).text();
const dbState = (text: string, worker: number, state: string): number | undefined =>
  metricValue(text, `pcluster_worker_db_state{worker="${worker}",state="${state}"}`);
/** A log line carries a stack trace when any of its string fields, however nested, holds a frame. */
const hasStack = (line: LogLine): boolean => /\n\s+at /.test(JSON.stringify(line).replace(/\\n/g, '\n'));

describe('a database outage', () => {
  const postgres = useOwnPostgres();

  it('logs one line per reconnect attempt with its number and next delay, the stack once, and shows in pcluster_worker_db_state', async () => {
    const server = postgres();
    const cluster = await startCluster(fixture('routes.mjs'), { workers: 2, databaseUrl: server.connectionString });
    const before = await scrape(cluster);
    for (const worker of [1, 2]) {
      expect(dbState(before, worker, 'open'), `worker ${worker} open`).to.equal(1);
      expect(dbState(before, worker, 'broken'), `worker ${worker} broken`).to.equal(0);
      expect(dbState(before, worker, 'connecting'), `worker ${worker} connecting`).to.equal(0);
    }
    expect(before).to.match(/^# TYPE pcluster_worker_db_state gauge$/m);
    expect(before, 'labelled by slot, never by pid').not.to.match(/pcluster_worker_db_state\{worker="\d{3,}"/);

    await server.stop('fast');
    const attempts = (worker: number): LogLine[] => cluster.logs().filter((line) => line.worker === worker && typeof line.attempt === 'number');
    await waitFor(() => attempts(1).length >= 4 && attempts(2).length >= 4, 20_000, 'four reconnect attempts per worker');
    await waitFor(async () => dbState(await scrape(cluster), 1, 'broken') === 1, 10_000, 'worker 1 broken in /metrics');
    const during = await scrape(cluster);
    expect(dbState(during, 1, 'open')).to.equal(0);

    for (const worker of [1, 2]) {
      const lines = attempts(worker);
      expect(lines.map((line) => line.attempt)).to.deep.equal(lines.map((_, i) => i + 1));
      for (const line of lines) {
        expect(line.level, line.msg).to.equal(40);
        // The first attempts may still meet the server shutting down; then the port is closed.
        expect(line.msg).to.match(/^database unreachable \(attempt \d+, next in \d+ms\): \S/);
        expect(line.msg).to.include(`attempt ${line.attempt}, next in ${line.retryInMs}ms`);
      }
      expect(lines.at(-1)!.msg).to.include('ECONNREFUSED');
      const stacks = cluster.logs().filter((line) => line.worker === worker && hasStack(line));
      expect(stacks.length, `stack traces logged by worker ${worker}:\n${stacks.map((l) => l.msg).join('\n')}`).to.be.at.most(1);
    }

    await server.start();
    await waitFor(async () => dbState(await scrape(cluster), 1, 'open') === 1 && dbState(await scrape(cluster), 2, 'open') === 1, 20_000, 'both open again');
    // A worker taken away takes its series with it.
    process.kill(cluster.pid, 'SIGTTOU');
    await waitFor(async () => !(await scrape(cluster)).includes('pcluster_worker_db_state{worker="2"'), 20_000, 'worker 2 series gone');
    expect(dbState(await scrape(cluster), 1, 'open')).to.equal(1);
    expect((await cluster.stop()).code).to.equal(0);
  });
});
