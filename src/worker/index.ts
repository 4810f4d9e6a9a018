export { startWorker, type WorkerHandle, type WorkerOptions } from './worker.js';
export { Sweeper, type SweepDeps, type SweepResult } from './sweep.js';
export { workerMetrics, type WorkerMetrics } from './metrics.js';
