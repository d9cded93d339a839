// Contender 5: node:cluster with a pg.Pool({ max: 10 }) in each worker.
import { runCluster } from './cluster-main.mjs';

runCluster(() => import('./pool-worker.mjs'));
