export { createBatchHandler, recordBatchFailure, type HandlerDeps, type RunEvent } from './handler.js';
export { checkDependencies, dependencyNodes, evaluatePolicy, type DependencyVerdict } from './dependency.js';
export {
  batchesOf,
  batchMessages,
  instanceName,
  publishNode,
  startRun,
  stopRun,
  tableSpecsOf,
  type BatchInterval,
  type StartedRun,
  type StartRunOptions,
} from './run.js';
export {
  batchStatusOf,
  isTerminal,
  nodeCompletionOf,
  nodeStatusOf,
  nodeStatusesOf,
  runStatusName,
  runStatusOf,
  statusName,
  type NodeCompletion,
} from './status.js';
export { runLocal, type LocalRunOptions, type LocalRunResult, type NodeSummary } from './local.js';
export { createEngineIo } from './engine-io.js';
export { runScriptLoader, type RunScriptLoaderOptions } from './script-loader.js';
export { BatchLease, BATCH_LEASE_TTL_MS } from './lease.js';
export { listRuns, runReport, type NodeReport, type RunReport } from './report.js';
