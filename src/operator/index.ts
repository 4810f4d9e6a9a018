export {
  systemClock,
  sleep,
  microTime,
  rfc3339,
  type Clock,
  type RandomSource,
  type TimerHandle,
} from './clock.js';
export { Backoff, backoffDelay, type BackoffOptions } from './backoff.js';
export {
  WorkQueue,
  ItemExponentialRateLimiter,
  BucketRateLimiter,
  MaxOfRateLimiter,
  defaultRateLimiter,
  type RateLimiter,
  type QueueObserver,
  type WorkQueueOptions,
} from './workqueue.js';
export {
  setCondition,
  setConditions,
  removeCondition,
  findCondition,
  isConditionTrue,
  mergePatchBetween,
  jsonEqual,
  truncate,
  CONDITION_MESSAGE_MAX,
  type ConditionUpdate,
  type ConditionStatus,
} from './conditions.js';
export {
  ClientNodeKubeClient,
  createKubeClient,
  loadKubeConfig,
  KubeApiError,
  toKubeError,
  isNotFound,
  isConflict,
  isAlreadyExists,
  isGone,
  objectKey,
  parseKey,
  LEASES,
  CRDS_RESOURCE,
  CONFIGMAPS,
  SECRETS,
  PODS,
  SERVICES,
  JOBS,
  EVENTS,
  type KubeClient,
  type KubeObject,
  type ResourceType,
  type ObjectList,
  type ListOptions,
  type DeleteOptions,
  type WatchOptions,
  type WatchHandle,
  type WatchEventType,
} from './kube-client.js';
export { Informer, type InformerHandlers, type InformerOptions, type InformerState } from './informer.js';
export {
  LeaderElector,
  canAcquire,
  nextLeaseSpec,
  type Lease,
  type LeaseSpec,
  type LeaderCallbacks,
  type LeaderElectionOptions,
} from './leader.js';
export {
  EventRecorder,
  TokenBuckets,
  referenceTo,
  type EventRecorderOptions,
  type EventType,
  type KubeEvent,
  type ObjectReference,
} from './events.js';
export { statusPatch, writeStatus, type StatusWriteOptions, type ObjectWithStatus } from './status-writer.js';
export { OperatorMetrics, operatorMetrics, type ReconcileResult } from './metrics.js';
export {
  Controller,
  type ControllerOptions,
  type Reconciler,
  type ReconcileOutcome,
  type ReconcileRequest,
} from './controller.js';
export { Manager, type ManagerOptions, type ManagerExit } from './manager.js';
export { DATARUN_RESOURCE, STREAMBRIDGE_RESOURCE } from './resources.js';
export { operatorConfigFromEnv, parseDurationMs, type OperatorConfig, type ConfigSources } from './config.js';
export { runOperator, type RunOperatorOptions, type OperatorContext } from './run.js';
export {
  addFinalizer,
  removeFinalizer,
  hasFinalizer,
  isBeingDeleted,
  controllerReference,
  controllerKey,
  childName,
} from './finalizers.js';
