export { loadScript } from './load.js';
export { ScriptError, formatProblem, type ScriptProblem } from './problems.js';
export { readScriptSource, type LoadOptions, type ScriptSource } from './source.js';
export {
  findParamReference,
  formatNumberParam,
  normalizeReferences,
  RESERVED_PARAMS,
  type ParamType,
} from './template.js';
export {
  ScriptSchema,
  NodeSchema,
  DependencyPolicySchema,
  NODE_TYPES,
  CUSTOM_PROC_TYPES,
  type RawScript,
  type RawNode,
} from './schema.js';
export { NRS_FIELDS } from './validate.js';
export { isTableNode, isTableReaderNode } from './model.js';
export type {
  CustomProcessorDef,
  CustomProcType,
  CustomTfmTableNode,
  Dag,
  DagEdge,
  DependencyCmd,
  DependencyPolicy,
  DependencyRule,
  DistinctTableNode,
  FileColumnDef,
  FileCreatorDef,
  FileReaderColumn,
  FileReaderDef,
  FileTableNode,
  LookupDef,
  LookupTableNode,
  NodeType,
  PyCalcDef,
  PyCalcField,
  RerunPolicy,
  Script,
  ScriptNode,
  StartPolicy,
  TableCreatorDef,
  TableFieldDef,
  TableFileNode,
  TableIndex,
  TableNode,
  TableReaderDef,
  TableReaderNode,
  TableTableNode,
  TagAndDenormalizeDef,
  TagCriterion,
} from './model.js';
