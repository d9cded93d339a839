/**
 * Rewrites RESULTS.md's generated section and chart.svg from a saved run, its targets judged anew
 * by the current targets.ts: for a change to the report itself, without measuring again.
 * `node benchmarks/dist/render-results.js <benchmarks/results/….json> [--dir <where RESULTS.md and chart.svg go>]`
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchRun } from './bench-run.js';
import { BENCH_ROOT } from './contender.js';
import { writeResultsDocs } from './results-doc.js';
import { checkTargets } from './targets.js';

const { values, positionals } = parseArgs({ options: { dir: { type: 'string' } }, allowPositionals: true });
if (positionals.length !== 1) {
  console.error('usage: node benchmarks/dist/render-results.js <results.json> [--dir <dir>]');
  process.exit(2);
}
const saved = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as BenchRun;
const dir = path.resolve(values.dir ?? BENCH_ROOT);
writeResultsDocs({ ...saved, targets: checkTargets(saved.summaries, saved.measurements) }, dir);
console.log(`updated: ${path.join(dir, 'RESULTS.md')}, ${path.join(dir, 'chart.svg')}`);
