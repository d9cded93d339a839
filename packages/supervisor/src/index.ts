export { Primary } from './primary.js';
export { runStart } from './run-start.js';
export { decide, respawnDelayMs, type Action, type ClusterIntent, type Decision, type SlotView } from './decide.js';
export type { StartOptions } from './start-options.js';
export type { StatusReport, WorkerStatusReport } from './status-report.js';
