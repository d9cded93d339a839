import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchRun } from './bench-run.js';
import { renderChart } from './chart.js';
import { resultsSection } from './results-section.js';

const START = '<!-- bench:start: written by `npm run bench`; edit outside these markers -->';
const END = '<!-- bench:end -->';

/** What a RESULTS.md starts as: a title, the generated section, and the hand-written section the generator leaves alone. */
const SKELETON = `# Benchmark results

## Where the time goes

_Written by hand after a full run: where pcluster's time per statement goes against the ceiling and Postgres.js, measured._
`;

/**
 * Replaces the generated section of RESULTS.md (between the markers) with `section`;
 * the first time, inserts it before the first `## ` heading so the hand-written sections stay.
 */
export function updateResultsDoc(file: string, section: string): void {
  const doc = existsSync(file) ? readFileSync(file, 'utf8') : SKELETON;
  const block = `${START}\n${section.trim()}\n${END}`;
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  let updated: string;
  if (start >= 0 && end > start) {
    updated = doc.slice(0, start) + block + doc.slice(end + END.length);
  } else {
    const firstHeading = doc.search(/^## /m);
    updated = firstHeading < 0 ? `${doc.trimEnd()}\n\n${block}\n` : `${doc.slice(0, firstHeading)}${block}\n\n${doc.slice(firstHeading)}`;
  }
  writeFileSync(file, updated);
}

/** Writes `run` into `dir`/RESULTS.md (its generated section) and `dir`/chart.svg. */
export function writeResultsDocs(run: BenchRun, dir: string): void {
  const { machine, settings } = run;
  const caption = `${run.command} · ${run.date.slice(0, 10)} · ${machine.cores} cores · Node ${machine.node} · PostgreSQL ${machine.postgres.split(' ')[0]} · ` +
    `${settings.workers} workers, ${settings.connections} keep-alive connections`;
  writeFileSync(path.join(dir, 'chart.svg'), renderChart(run.summaries, run.contenders, settings.workloads, caption));
  updateResultsDoc(path.join(dir, 'RESULTS.md'), resultsSection(run));
}
