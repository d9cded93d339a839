import type { StatusReport } from 'pcluster';
import type { ClusterProcess } from './cluster-process.js';

/** GET /status of a running cluster. */
export async function clusterStatus(cluster: ClusterProcess): Promise<StatusReport> {
  return (await (await fetch(`${cluster.metricsUrl}/status`)).json()) as StatusReport;
}
