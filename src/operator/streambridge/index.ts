export {
  StreamBridgeReconciler,
  setupStreamBridgeController,
  httpStatusScraper,
  STATEFULSETS,
  type PodObject,
  type StatusScraper,
  type StreamBridgeControllerOptions,
} from './controller.js';
export {
  renderBridgeConfig,
  renderConfigMap,
  renderStatefulSet,
  desiredReplicas,
  bufferPath,
  bridgeLabels,
  podSelector,
  configMapName,
  statefulSetName,
  BRIDGE_LABEL,
  CONFIG_HASH_ANNOTATION,
  SPEC_HASH_ANNOTATION,
  SECRETS_HASH_ANNOTATION,
  DEFAULT_METRICS_PORT,
  DEFAULT_BUFFER_PATH,
  type RenderOptions,
  type RenderedBridge,
  type EnvVar,
  type ConfigMapObject,
  type StatefulSetObject,
} from './render.js';
export {
  reduceStatus,
  shouldWrite,
  DEFAULT_STALE_AFTER_MS,
  type PodReport,
  type StatusInput,
} from './status.js';
export {
  registerStreamBridgeController,
  streamBridgeSettingsFromEnv,
  type StreamBridgeRegistrationOptions,
} from './register.js';
