import type { BenchRun } from './bench-run.js';
import { CONTENDERS } from './contenders.js';
import { overviewTable, ratioTable, renderMarkdown, supervisorTable, targetsTable } from './report.js';
import { TARGETS } from './targets.js';

/** The targets line under their table: how many were met, and which had no alternative in the run. */
function targetsSummary(run: BenchRun): string {
  const judged = run.targets.filter((check) => check.isMet !== undefined);
  const met = judged.filter((check) => check.isMet === true).length;
  const label = (id: string): string => [...run.contenders, ...CONTENDERS].find((c) => c.id === id)?.label ?? id;
  const absent = TARGETS.filter((target) => !run.targets.some((check) => check.against === target.against && check.workload === target.workload));
  const missing = absent.length === 0 ? '' : ` Not in this run: ${absent.map((target) => `${label(target.against)} on /${target.workload}`).join('; ')}.`;
  return `${met} of ${judged.length} targets met.${missing}`;
}

/** The generated part of RESULTS.md for one run: targets, chart and tables, the machine and the method, how to reproduce. */
export function resultsSection(run: BenchRun): string {
  const { machine, settings } = run;
  const supervisorWorkers = run.supervisor.pcluster?.workers ?? run.supervisor.pm2?.workers;
  const rounds = `${settings.rounds} round${settings.rounds === 1 ? '' : 's'}`;
  return `
pcluster against what a user could run instead, all measured in one run of \`${run.command}\` on ${run.date.slice(0, 10)}:
every contender runs ${settings.workers} worker processes under ${settings.connections} keep-alive connections, serving the same
three routes with the same SQL (\`benchmarks/apps/\`). Absolute req/s depend on the machine (this one is small and
shared); the ratios, each taken between rates measured in the same round, are what carries over.

![req/s and connections per contender](chart.svg)

## Targets (issue 25)

pcluster with default flags ÷ each alternative on one route; "measured" is the median over rounds of each round's own
ratio, "per round" the range of those ratios and in how many rounds one alone reached the target.

${renderMarkdown(targetsTable(run.targets, run.contenders))}

${targetsSummary(run)}

## Results

Medians over ${rounds}; per-route ranges and every window: \`benchmarks/results/${run.resultsName}.json\`.

${renderMarkdown(overviewTable(run.summaries, run.contenders, settings.workloads))}

\`/page\`: 3 parameterised primary-key selects on a 10k-row table, one after another, as app code writes them;
\`/write\`: BEGIN, UPDATE, INSERT, COMMIT; \`/nodb\`: no database. Conns: the most client backends \`pg_stat_activity\`
showed with the contender's own \`application_name\` (sampled every 100 ms). RSS: peak summed VmRSS of its process
tree. CPU: user + system time of its process tree and of the whole PostgreSQL server, per request.

${run.contenders.map((c) => `- **${c.label}** (\`${c.id}\`): ${c.description}`).join('\n')}

## pcluster ÷ each alternative, per route

${renderMarkdown(ratioTable(run.measurements, run.contenders, settings.workloads))}

## Supervisor, idle${supervisorWorkers === undefined ? '' : ` (${supervisorWorkers} workers)`}

${supervisorWorkers === undefined ? 'Not measured in this run.' : `${renderMarkdown(supervisorTable(run.supervisor.pcluster, run.supervisor.pm2))}

Ready: connected and listening (pcluster: \`/status\` polled every 25 ms; PM2: \`wait_ready\`, its Pool connects on
first use). Reload: \`kill -HUP\` until every worker is generation 2 against \`pm2 reload\` until it returns.`}

## The machine and the method

- Command: \`${run.command}\`
- CPU: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGb} GB; ${machine.kernel ?? 'kernel not recorded'}
- Node.js ${machine.node}; PostgreSQL ${machine.postgres}, started by the bench (scram-sha-256, \`fsync=off\`)
- Load: \`${machine.loadTool}\`, ${settings.connections} keep-alive connections, on the same machine; pgbench: \`-c ${settings.workers} -j ${settings.workers}\`, \`apps/pgbench-page.sql\` (one transaction = one page)
- ${rounds}, each starting every contender afresh (in reverse order every other round) and warming each of its routes
  for ${settings.warmupSeconds} s, then measuring each route in ${settings.windows} window${settings.windows === 1 ? '' : 's'} of ${settings.windowSeconds} s, the contenders taking turns window by window${
  settings.rewarmSeconds > 0 ? `,\n  each window right after ${settings.rewarmSeconds} s of unmeasured load (an idle contender wakes slowly)` : ''}. A round's req/s is its
  requests over its windows' time.

## How to reproduce

\`\`\`sh
apt-get install wrk postgresql   # wrk: the load (else the bench uses autocannon); postgresql: pgbench and the server
npm ci
npm run bench         # the full run (~30 min): rewrites this file's generated part and chart.svg
npm run bench:quick   # one short round, results JSON only: a check that everything runs, not a measurement
node benchmarks/dist/bench.js --contenders pcluster,hand-rolled-pipeline --workloads page --no-docs   # a subset
\`\`\`

\`node benchmarks/dist/bench.js --help\` lists the options; \`benchmarks/README.md\` the diagnostic tools;
\`node benchmarks/dist/render-results.js <results.json>\` rewrites this file and the chart from a saved run.
`;
}
