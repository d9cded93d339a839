import type { BenchRun } from './bench-run.js';
import { ratioTable, renderMarkdown, resultsTable, supervisorTable, targetsTable, times } from './report.js';

/** The generated part of RESULTS.md for one run: command, machine, method, tables, verdicts. */
export function resultsSection(run: BenchRun): string {
  const { machine, settings } = run;
  const verdict = (isMet: boolean): string =>
    run.targets
      .filter((check) => check.isMet === isMet)
      .map((check) => `${check.target} — ${check.variant === 'pcluster' ? 'default' : '--prepare auto'}: ${times(check.ratio)}`)
      .join('; ') || 'none';
  return `
## pcluster against the alternatives (issue 6)

\`\`\`
${run.command}
\`\`\`

Run on ${run.date.slice(0, 10)}: ${machine.cores} cores (${machine.cpuModel}), Node.js ${machine.node}, PostgreSQL
${machine.postgres} (system binaries, the project's harness: scram-sha-256, \`fsync=off\`), load from
\`${machine.loadTool} -t2 -c${settings.connections}\` keep-alive on the same machine. Every HTTP contender runs
${settings.workers} worker processes serving the same three routes with the same SQL (\`benchmarks/apps/\`):
\`/page\` = 3 primary-key selects on a 10k-row table, \`/write\` = BEGIN, UPDATE, INSERT, COMMIT,
\`/nodb\` = no database. ${settings.rounds} rounds; each starts every contender afresh (order reversed every other
round) and leaves them all running, gives each ${settings.warmupSeconds} s of warm-up load on every route before any is
measured (\`/nodb\` excepted: \`/page\` and \`/write\` run all it runs, and come first; fresh workers need ~5 s of load to reach their steady rate), then measures each route of each contender
in ${settings.windows} windows of ${settings.windowSeconds} s, the contenders taking turns window by window
(each in a different place of the order each time), so that the windows compared are seconds apart, not minutes;
${settings.rewarmSeconds > 0 ? `each window comes right after ${settings.rewarmSeconds} s of unmeasured load on the same route, since a contender left idle during the others'
turns serves its first second at ~60% of its steady rate (RESULTS.md, item 17)` : 'no load comes between a window and the idle time before it'}. A round's req/s is its requests over
its windows' time; p50 and p99 are medians over its windows. The table gives medians over rounds; a ratio is the
median over rounds of the two rates measured in the same round (the machine drifts between rounds); connections are
the most client backends \`pg_stat_activity\` showed with the contender's own \`application_name\` (sampled every
100 ms during its windows); RSS is the peak of the summed VmRSS
of the contender's process tree (primary or PM2 daemon + workers; pgbench: its process); CPU µs/req is the
user + system time (\`/proc/<pid>/stat\`, reaped children included) of the contender's tree and of the whole
PostgreSQL server during its windows, divided by its requests: steadier than req/s on a shared machine.
pgbench runs \`apps/pgbench-page.sql\` (one transaction = one page) with \`-c ${settings.workers} -j ${settings.workers} -T ${settings.windowSeconds}\` per window.
Raw numbers: \`benchmarks/results/${run.resultsName}.json\`.

![req/s and connections per contender](chart.svg)

${renderMarkdown(resultsTable(run.summaries))}

### Ratios: pcluster ÷ each alternative (req/s; median over rounds of each round's own ratio)

${renderMarkdown(ratioTable(run.measurements, run.contenders, run.settings.workloads))}

### Issue 6 targets (judged on \`/page\`)

The verdict is the median ratio's; "ratio per round" shows how far the rounds agree with it.

${renderMarkdown(targetsTable(run.targets))}

**Met:** ${verdict(true)}.

**Missed:** ${verdict(false)}.

### Supervisor, idle (${run.supervisor.pcluster?.workers ?? run.supervisor.pm2?.workers ?? 0} workers)

${run.supervisor.pcluster === undefined && run.supervisor.pm2 === undefined ? 'Not measured in this run.' : renderMarkdown(supervisorTable(run.supervisor.pcluster, run.supervisor.pm2))}

pcluster: ready = connected to PostgreSQL and listening, polled on \`/status\` every 25 ms; reload = \`kill -HUP\`
until all workers are generation 2 (two at a time, make-before-break). PM2: \`wait_ready\` (ready = listening; its
Pool connects on first use), \`pm2 start -i N\` until every instance is online, \`pm2 reload\` until it returns
(PM2 replaces 2 instances at a time by default).
`;
}
