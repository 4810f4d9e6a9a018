export { API_GROUP, API_VERSION, API_GROUP_VERSION, CATEGORY } from './group.js';
export * from './kube.js';
export * from './datarun.js';
export * from './streambridge.js';
export {
  CRDS,
  dataRunCrd,
  streamBridgeCrd,
  toStructuralSchema,
  type CustomResourceDefinition,
  type JsonSchema,
  type PrinterColumn,
} from './crd.js';
export {
  DataRunSchema,
  StreamBridgeSchema,
  ManifestMetadata,
  type DataRun,
  type StreamBridge,
  type ObjectMeta,
  type OwnerReference,
} from './resources.js';
export {
  validateDataRun,
  validateStreamBridge,
  parseDataRun,
  parseStreamBridge,
  type FieldError,
  type ValidationResult,
  type ValidateOptions,
} from './validate.js';
export { celErrors } from './cel.js';
export { defaultKeyspace, dataRunKeyspace, KEYSPACE_MAX_LENGTH } from './keyspace.js';
export { renderCrdYaml, renderApiReference, generatedFiles, GENERATED_HEADER } from './render.js';
