// The node:cluster shell of the hand-written contenders: $WORKERS workers run `startWorker`;
// the primary prints "ready" once all of them listen and stops them on SIGTERM.
import cluster from 'node:cluster';

export function runCluster(startWorker) {
  if (!cluster.isPrimary) {
    // A plain exit (not death by signal) lets --cpu-prof write the worker's profile.
    process.on('SIGTERM', () => process.exit(0));
    startWorker().catch((error) => {
      console.error(error);
      process.exit(1);
    });
    return;
  }
  const count = Number(process.env.WORKERS ?? 2);
  let listening = 0;
  let isStopping = false;
  cluster.on('listening', () => {
    if (++listening === count) console.log('ready');
  });
  cluster.on('exit', (worker, code, signal) => {
    if (!isStopping) {
      console.error(`worker ${worker.process.pid} died (${signal ?? code}); a benchmark contender does not restart workers`);
      process.exit(1);
    }
    if (Object.keys(cluster.workers).length === 0) process.exit(0);
  });
  process.on('SIGTERM', () => {
    isStopping = true;
    if (Object.keys(cluster.workers).length === 0) process.exit(0);
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
  });
  for (let i = 0; i < count; i++) cluster.fork();
}
