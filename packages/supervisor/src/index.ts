export { Primary } from './primary.js';
export { runStart } from './run-start.js';
export { decide, respawnDelayMs, recycleReason, startupDeathHalts, KILL_MARGIN_MS, type Action, type ClusterIntent, type ClusterView, type Decision, type SlotView, type WorkerView } from './decide.js';
export { ConnectionBudget } from './connection-budget.js';
export type { StartOptions } from './start-options.js';
export type { StatusReport, WorkerStatusReport } from './status-report.js';
