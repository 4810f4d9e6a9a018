export { DATETIME_LAYOUTS } from './layouts.js';
export {
  ColumnInference,
  WRITE_FORMATS,
  classifyCell,
  inferColumnTypes,
  matchingLayouts,
  widenType,
  type CellClass,
  type InferredType,
} from './infer.js';
export { baseFileName, fieldNames, indexFieldName, sanitizeName, tableNameFor } from './names.js';
export {
  SAMPLE_LINES,
  checkCsvLineOptions,
  collectCsvSample,
  type CsvLineOptions,
  type CsvSample,
} from './sample.js';
export {
  DEFAULT_PROTO_OUT_DIR,
  READ_NODE,
  WRITE_NODE,
  buildCsvScript,
  buildParquetScript,
  checkSeparator,
  protoFromCsv,
  protoOutputUrl,
  stockDependencyPolicies,
  type CsvProtoOptions,
  type CsvScriptInput,
  type GeneratedScript,
  type ParquetScriptInput,
} from './build.js';
