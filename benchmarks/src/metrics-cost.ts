/**
 * What recording the worker's metrics costs per /page: 3 lease-wait observations, 3
 * validation counts and 1 response (a count and a duration), through the real
 * WorkerMetrics, once in a tight loop and once amid allocation (as in a worker, where each
 * request allocates its own objects between these calls). Since the change of investigation log item 14 these
 * are plain counts handed to prom-client at collection; before, each was a prom-client call.
 * `node benchmarks/dist/metrics-cost.js [--pages N] [--rounds N]`
 */
import { parseArgs } from 'node:util';
import { WorkerMetrics } from '@pcluster/worker-runtime/internal/worker-metrics';
import { median } from './summary.js';

const { values } = parseArgs({ options: { pages: { type: 'string' }, rounds: { type: 'string' } } });
const pages = Number(values.pages ?? 200_000);
const rounds = Number(values.rounds ?? 5);
if (![pages, rounds].every((n) => Number.isInteger(n) && n > 0)) {
  console.error('usage: node benchmarks/dist/metrics-cost.js [--pages N] [--rounds N]');
  process.exit(2);
}

const metrics = new WorkerMetrics(1);
let sink = 0;

function metricsOfOnePage(): void {
  for (let statement = 0; statement < 3; statement++) {
    metrics.leaseWait.observe(Math.random() * 0.0002);
    metrics.countValidation('skipped');
  }
  metrics.observeResponse(200, 0.002 + Math.random() * 0.004);
}

/** Roughly what one request allocates besides: a few hundred short-lived objects. */
function allocate(): void {
  const garbage: { i: number; s: string }[] = [];
  for (let i = 0; i < 200; i++) garbage.push({ i, s: `row ${i}` });
  sink += garbage.length;
}

function nsPerPage(body: () => void): number {
  const started = process.hrtime.bigint();
  for (let page = 0; page < pages; page++) body();
  return Number(process.hrtime.bigint() - started) / pages;
}

const tight: number[] = [];
const amid: number[] = [];
for (let round = 0; round < rounds; round++) {
  tight.push(nsPerPage(metricsOfOnePage));
  const allocationOnly = nsPerPage(allocate);
  amid.push(nsPerPage(() => {
    allocate();
    metricsOfOnePage();
  }) - allocationOnly);
}
console.log(`prom-client metrics per /page (median of ${rounds} rounds of ${pages} pages):`);
console.log(`  in a tight loop        ${(median(tight) / 1000).toFixed(2)} µs`);
console.log(`  amid allocation        ${(median(amid) / 1000).toFixed(2)} µs`);
if (sink < 0) console.log(sink);
