/**
 * The typed script model the engine and the runtime work with. Everything here has been checked: tables, indexes
 * and fields exist, expressions are compiled and type-checked, defaults are applied.
 */
import type { CompiledExpr, IndexDef } from '../expr/index.js';
import type { FieldType } from '../values/index.js';
import type { CustomProcType, NodeType } from './schema.js';

export type { NodeType, CustomProcType };
export type StartPolicy = 'auto' | 'manual';
export type RerunPolicy = 'rerun' | 'fail';
export type DependencyCmd = 'go' | 'wait' | 'nogo';

export interface DependencyRule {
  cmd: DependencyCmd;
  /** Bool expression over nrs.* and wfmodel.* constants. */
  expr: CompiledExpr;
}

export interface DependencyPolicy {
  name: string;
  isDefault: boolean;
  /** Order over nrs fields (run_id, run_is_current, run_status, node_status), parsed as non_unique(...). */
  eventPriorityOrder: IndexDef;
  rules: DependencyRule[];
}

// ---------------------------------------------------------------------------------------------------------------
// Readers

export interface FileReaderColumn {
  /** Reader field name (r.<name>). */
  name: string;
  type: FieldType;
  defaultValue?: string;
  csvColIdx?: number;
  csvColHdr?: string;
  csvColFormat?: string;
  parquetColName?: string;
}

export interface FileReaderDef {
  urls: string[];
  kind: 'csv' | 'parquet';
  csv: { hdrLineIdx: number; firstDataLineIdx: number; separator: string };
  /** In script order. */
  columns: FileReaderColumn[];
  /** CSV: columns addressed by header text (`col_hdr`) or by index (`col_idx`). 'index' for Parquet. */
  columnMode: 'header' | 'index';
}

export interface TableReaderDef {
  table: string;
  /** 1 when absent. */
  expectedBatchesTotal: number;
  /** 1000 when absent or 0. */
  rowsetSize: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Writers and lookups

export interface TableFieldDef {
  name: string;
  type: FieldType;
  expr: CompiledExpr;
  /** `default_value` text (left lookups without a right row); parse with values' parseDefaultValue. */
  defaultValue?: string;
}

export interface TableIndex {
  name: string;
  def: IndexDef;
}

export interface TableCreatorDef {
  name: string;
  /** In script order. */
  fields: TableFieldDef[];
  /** Bool over w.* (the computed record). */
  having?: CompiledExpr;
  indexes: TableIndex[];
  tableOptions?: string;
}

export interface LookupDef {
  indexName: string;
  index: IndexDef;
  /** Table of the node that defines the index. */
  rightTable: string;
  /** Left field names (without `r.`), in index component order. */
  joinOn: string[];
  joinType: 'inner' | 'left';
  group: boolean;
  /** Bool over l.*. */
  filter?: CompiledExpr;
  idxReadBatchSize: number;
  rightLookupReadBatchSize: number;
}

export interface FileColumnDef {
  name: string;
  type: FieldType;
  /** Over r.*. */
  expr: CompiledExpr;
  csvHeader?: string;
  csvFormat?: string;
  parquetColumnName?: string;
}

export interface FileCreatorDef {
  /** Output URL; `{batch_idx}` and `{run_id}` (if present) are replaced per batch by `%05d` values. */
  urlTemplate: string;
  kind: 'csv' | 'parquet';
  /** In output order. */
  columns: FileColumnDef[];
  /** Bool over w.<column>. */
  having?: CompiledExpr;
  csvSeparator: string;
  parquetCodec: 'gzip' | 'snappy' | 'uncompressed';
  /** Sorting: keep the `limit` smallest keys of `order` (columns), write them in ascending key order. */
  top?: { order: IndexDef; limit: number };
}

// ---------------------------------------------------------------------------------------------------------------
// Custom processors

export interface TagCriterion {
  tag: string;
  /** Bool over r.*. */
  expr: CompiledExpr;
}

export interface TagAndDenormalizeDef {
  kind: 'tag_and_denormalize';
  /** p.<tagFieldName> (string) holds the tag of each output row. */
  tagFieldName: string;
  /** In file order. */
  criteria: TagCriterion[];
  /** Where the criteria came from, when `tag_criteria_url` was used. */
  criteriaUrl?: string;
}

export interface PyCalcField {
  name: string;
  type: FieldType;
  /** As written in the script (`func(r.a, p.b)`). */
  expression: string;
  /** Python text: `r.x` → `r_x`, `p.x` → `p_x`. */
  pythonExpression: string;
  /** p.* fields this one depends on. */
  dependsOn: string[];
}

export interface PyCalcDef {
  kind: 'py_calc';
  /** Contents of `python_code_urls`, joined with `\n`. */
  pythonCode: string;
  pythonCodeUrls: string[];
  /** In calculation order (dependencies first). */
  calculatedFields: PyCalcField[];
  /** r.* fields the calculated fields read (each passed to Python as r_<name>). */
  usedReaderFields: string[];
}

export type CustomProcessorDef = TagAndDenormalizeDef | PyCalcDef;

// ---------------------------------------------------------------------------------------------------------------
// Nodes

interface NodeBase {
  name: string;
  desc: string;
  startPolicy: StartPolicy;
  rerunPolicy: RerunPolicy;
  /** The node's policy or the default one (used by nodes with a table reader). */
  dependencyPolicy: DependencyPolicy;
  maxBatchProcessingTimeMs: number;
}

export interface FileTableNode extends NodeBase {
  type: 'file_table';
  r: FileReaderDef;
  w: TableCreatorDef;
}

export interface TableTableNode extends NodeBase {
  type: 'table_table';
  r: TableReaderDef;
  w: TableCreatorDef;
}

export interface DistinctTableNode extends NodeBase {
  type: 'distinct_table';
  r: TableReaderDef;
  w: TableCreatorDef;
  /** The unique index that decides which rows are distinct. */
  distinctIndex: TableIndex;
}

export interface LookupTableNode extends NodeBase {
  type: 'table_lookup_table';
  r: TableReaderDef;
  l: LookupDef;
  w: TableCreatorDef;
}

export interface TableFileNode extends NodeBase {
  type: 'table_file';
  r: TableReaderDef;
  w: FileCreatorDef;
}

export interface CustomTfmTableNode extends NodeBase {
  type: 'table_custom_tfm_table';
  customProcType: CustomProcType;
  r: TableReaderDef;
  p: CustomProcessorDef;
  w: TableCreatorDef;
}

export type ScriptNode =
  FileTableNode | TableTableNode | DistinctTableNode | LookupTableNode | TableFileNode | CustomTfmTableNode;

/** Nodes that create a table (every type but table_file). */
export type TableNode = Exclude<ScriptNode, TableFileNode>;
/** Nodes that read a table (every type but file_table). */
export type TableReaderNode = Exclude<ScriptNode, FileTableNode>;

export interface DagEdge {
  from: string;
  to: string;
  table: string;
  kind: 'reader' | 'lookup';
}

export interface Dag {
  /** Node names, parents before children; ties in script order. */
  topo: readonly string[];
  parents(node: string): string[];
  children(node: string): string[];
  edges: readonly DagEdge[];
}

export interface Script {
  scriptUrl: string;
  paramsUrl?: string;
  /** Effective parameter values (params file, then overrides). */
  params: Record<string, unknown>;
  /** In script order. */
  nodes: ReadonlyMap<string, ScriptNode>;
  dependencyPolicies: ReadonlyMap<string, DependencyPolicy>;
  defaultDependencyPolicy: DependencyPolicy;
  dag: Dag;
  tableCreator(table: string): TableNode | undefined;
  indexCreator(index: string): TableNode | undefined;
  /** Start nodes and everything downstream that is not manual (spec §4.3), in topological order. */
  affectedNodes(startNodes: readonly string[]): string[];
  /** Fields of a table created by the script (name → type, in script order). Throws for an unknown table. */
  tableFields(table: string): Record<string, FieldType>;
  /** Non-fatal notes (unknown keys, unused overrides). */
  warnings: readonly string[];
}

export function isTableNode(n: ScriptNode): n is TableNode {
  return n.type !== 'table_file';
}

export function isTableReaderNode(n: ScriptNode): n is TableReaderNode {
  return n.type !== 'file_table';
}
