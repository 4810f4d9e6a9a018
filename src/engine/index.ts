export { processBatch } from './process.js';
export { BatchError } from './errors.js';
export { expandUrlTemplate, compareUtf8 } from './table-file.js';
export {
  buildPythonProgram,
  parsePythonOutput,
  pythonLiteral,
  pythonResultValue,
  tracebackLastLine,
  PY_DATETIME_LAYOUT,
} from './py-calc.js';
export {
  DEFAULT_PYTHON,
  type BatchContext,
  type BatchProgress,
  type BatchResult,
  type BatchSpec,
  type CellSpec,
  type EngineIo,
  type FileRecord,
  type OutputColumn,
  type OutputFormat,
  type ParquetColumn,
  type ParquetRow,
  type PythonSettings,
  type Row,
  type RowFileWriter,
} from './types.js';
