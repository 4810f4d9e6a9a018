/**
 * From a parsed script document to the typed model, checking everything before any data is touched (spec §1.3–1.15):
 * structure (ajv), names, references between nodes, indexes and their use, the node graph, and a static type check
 * of every expression against the fields it may see. Every problem is reported, each with its file and path.
 */
import { UserInputError } from '../errors/index.js';
import {
  compileExpression,
  ExprError,
  parseIndexDef,
  parseOrderDef,
  type CompiledExpr,
  type ExprType,
  type IndexDef,
  type Scope,
  WFMODEL_CONSTANTS,
} from '../expr/index.js';
import {
  goTimeParse,
  parseDefaultValue,
  parseGoBool,
  parseGoDecimal,
  parseGoFloat,
  parseGoInt,
  type FieldType,
} from '../values/index.js';
import { affectedNodes, buildDag } from './dag.js';
import type {
  CustomProcessorDef,
  CustomTfmTableNode,
  DagEdge,
  DependencyPolicy,
  FileColumnDef,
  FileCreatorDef,
  FileReaderColumn,
  FileReaderDef,
  LookupDef,
  PyCalcDef,
  PyCalcField,
  Script,
  ScriptNode,
  TableCreatorDef,
  TableFieldDef,
  TableIndex,
  TableNode,
  TableReaderDef,
  TagAndDenormalizeDef,
} from './model.js';
import { describeError, fileLabel, joinPath, type Problems } from './problems.js';
import {
  findPythonDefs,
  parsePyExpr,
  PY_BUILTINS,
  PyExprError,
  toPython,
  walkPy,
  type PyExpr,
} from './pycalc.js';
import {
  DependencyPolicySchema,
  NodeSchema,
  ScriptShellSchema,
  TagAndDenormalizeSchema,
  PyCalcSchema,
  type RawDependencyPolicy,
  type RawFileCreator,
  type RawFileReader,
  type RawNode,
  type RawPyCalc,
  type RawTableCreator,
  type RawTagAndDenormalize,
  type RawTableReader,
} from './schema.js';
import { readOrReport, type ScriptSource } from './source.js';
import { checkAgainst, describeValue } from './structure.js';
import { unknownKeys } from './unknown-keys.js';

const TABLE_NAME = /^[A-Za-z0-9_]+$/;
const INDEX_NAME = /^idx[A-Za-z0-9_]+$/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_NAME = 42;
const DEFAULT_ROWSET = 1000;
const DEFAULT_LOOKUP_PAGE = 3000;
const DEFAULT_TOP_LIMIT = 5_000_000;
const DEFAULT_MAX_BATCH_MS = 60_000;

/** Fields of the dependency-rule record and the constants rules may use (spec §1.14). */
export const NRS_FIELDS: Record<string, FieldType> = {
  run_id: 'int',
  run_is_current: 'bool',
  run_status: 'int',
  node_status: 'int',
};

type Fields = Record<string, FieldType>;

interface TableInfo {
  node: string;
  fields?: Fields;
  indexes: Map<string, IndexDef | undefined>;
}

function typeName(t: ExprType): string {
  switch (t) {
    case 'goint':
      return 'Go int (the result of len())';
    case 'month':
      return 'time.Month';
    case 'location':
      return 'time location';
    default:
      return t;
  }
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0] as number;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j] as number;
      dp[j] = Math.min(
        (dp[j] as number) + 1,
        (dp[j - 1] as number) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return dp[b.length] as number;
}

function didYouMean(word: string, candidates: readonly string[]): string {
  const c = closest(word, candidates);
  return c === undefined ? '' : ` (did you mean ${c}?)`;
}

/**
 * The message of an expression error, without the expression layer's trailing "at <offset>": the path already
 * says which expression; the column is added only for long expressions, where it helps.
 */
function exprErrorText(err: unknown): string {
  if (err instanceof ExprError) {
    return err.source.length > 40 ? `${err.detail} (at column ${err.pos + 1})` : err.detail;
  }
  return describeError(err);
}

class Builder {
  readonly file: string;
  private readonly tables = new Map<string, TableInfo>();
  /** Tables named by nodes whose structure is broken: their fields are unknown, references to them are not errors. */
  private readonly opaqueTables = new Set<string>();
  private readonly opaqueIndexes = new Set<string>();
  private readonly indexOwner = new Map<string, string>();
  private readonly usedIndexes = new Set<string>();
  private readonly edges: DagEdge[] = [];
  private readonly policies = new Map<string, DependencyPolicy>();
  private defaultPolicy: DependencyPolicy | undefined;
  private policiesBroken = false;

  constructor(
    private readonly src: ScriptSource,
    private readonly problems: Problems,
    private readonly readText: (url: string) => Promise<string>,
  ) {
    this.file = src.file;
  }

  private err(path: string, message: string): void {
    this.problems.add(this.file, path, message);
  }

  private compile(
    path: string,
    source: string,
    scope: Scope,
    expected: FieldType | 'bool-condition',
    file = this.file,
  ): CompiledExpr | undefined {
    let e: CompiledExpr;
    try {
      e = compileExpression(source, scope);
    } catch (x) {
      this.problems.add(file, path, this.explainExprError(x, scope));
      return undefined;
    }
    if (expected === 'bool-condition') {
      if (e.type !== 'bool')
        this.problems.add(file, path, `must be a bool expression (its type is ${typeName(e.type)})`);
    } else if (e.type !== expected) {
      let hint = '';
      if (e.type === 'goint' && expected === 'int') hint = ': write len(x)+0 to make it an int';
      this.problems.add(
        file,
        path,
        `expression type ${typeName(e.type)} does not match the declared type ${expected}${hint}`,
      );
    }
    return e;
  }

  /** Adds a "did you mean" to unknown-field messages when the expression layer does not. */
  private explainExprError(x: unknown, scope: Scope): string {
    const text = exprErrorText(x);
    if (/did you mean/.test(text)) return text;
    const m = /unknown field ([A-Za-z_]\w*)\.([A-Za-z_]\w*)/.exec(text);
    if (m) {
      const fields = Object.keys(scope.vars[m[1] as string] ?? {});
      const hint = didYouMean(m[2] as string, fields);
      if (hint) return text.replace(m[0], `${m[0]}${hint.replace('did you mean ', `did you mean ${m[1]}.`)}`);
    }
    return text;
  }

  // -------------------------------------------------------------------------------------------------------------

  async build(): Promise<Script | undefined> {
    const data = this.src.data;
    if (!checkAgainst(ScriptShellSchema, data, this.file, [], this.problems)) {
      if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
    }
    const doc = data as { nodes?: unknown; dependency_policies?: unknown };
    const rawNodes = isObject(doc.nodes) ? doc.nodes : {};
    const rawPolicies = isObject(doc.dependency_policies) ? doc.dependency_policies : {};

    for (const w of unknownKeys(data)) this.problems.warn(this.file, w, 'unknown key, ignored');

    this.buildPolicies(rawPolicies);

    // Structure of every node first, then names of tables and indexes (references may point forward).
    const good = new Map<string, RawNode>();
    for (const [name, raw] of Object.entries(rawNodes)) {
      if (checkAgainst(NodeSchema, raw, this.file, ['nodes', name], this.problems))
        good.set(name, raw as RawNode);
      else this.noteOpaque(raw);
    }
    for (const [name, raw] of good) this.registerTable(name, raw);

    const nodes = new Map<string, ScriptNode>();
    for (const [name, raw] of good) {
      const n = await this.buildNode(name, raw);
      if (n) nodes.set(name, n);
    }
    this.checkIndexUsage();
    this.checkReservedPlaceholders(data, good);

    const order = Object.keys(rawNodes);
    const { dag, cycles } = buildDag(
      order.filter((n) => good.has(n)),
      this.edges,
    );
    for (const c of cycles) {
      this.err(
        joinPath('nodes', c[0] as string),
        `nodes form a cycle through the tables they read: ${c.join(' → ')}`,
      );
    }

    if (this.problems.size > 0 || !this.defaultPolicy) return undefined;
    const defaultPolicy = this.defaultPolicy;
    const tables = this.tables;
    const script: Script = {
      scriptUrl: this.src.scriptUrl,
      params: this.src.params,
      nodes,
      dependencyPolicies: this.policies,
      defaultDependencyPolicy: defaultPolicy,
      dag,
      tableCreator: (t) => {
        const info = tables.get(t);
        return info ? (nodes.get(info.node) as TableNode | undefined) : undefined;
      },
      indexCreator: (i) => {
        const owner = this.indexOwner.get(i);
        return owner ? (nodes.get(owner) as TableNode | undefined) : undefined;
      },
      affectedNodes: (start) => affectedNodes(dag, (n) => nodes.get(n)?.startPolicy, start),
      tableFields: (t) => {
        const f = tables.get(t)?.fields;
        if (!f) throw new UserInputError('UNKNOWN_TABLE', `${this.file}: no node creates table ${t}`);
        return { ...f };
      },
      warnings: this.problems.warnings,
    };
    if (this.src.paramsUrl) script.paramsUrl = this.src.paramsUrl;
    return script;
  }

  private noteOpaque(raw: unknown): void {
    if (!isObject(raw)) return;
    const w = raw.w;
    if (isObject(w) && typeof w.name === 'string') this.opaqueTables.add(w.name);
    if (isObject(w) && isObject(w.indexes)) Object.keys(w.indexes).forEach((i) => this.opaqueIndexes.add(i));
  }

  // -------------------------------------------------------------------------------------------------------------
  // Dependency policies

  private buildPolicies(raw: Record<string, unknown>): void {
    const defaults: string[] = [];
    for (const [name, rp] of Object.entries(raw)) {
      const base = ['dependency_policies', name];
      if (!checkAgainst(DependencyPolicySchema, rp, this.file, base, this.problems)) {
        this.policiesBroken = true;
        continue;
      }
      const p = rp as RawDependencyPolicy;
      const order = this.parseOrder(
        joinPath(...base, 'event_priority_order'),
        p.event_priority_order,
        NRS_FIELDS,
        'nrs fields',
      );
      const scope: Scope = {
        vars: { nrs: NRS_FIELDS },
        constants: { wfmodel: { ...WFMODEL_CONSTANTS } },
        decimalRounding: false,
      };
      const rules: DependencyPolicy['rules'] = [];
      p.rules.forEach((rule, i) => {
        const expr = this.compile(
          joinPath(...base, 'rules', i, 'expression'),
          rule.expression,
          scope,
          'bool-condition',
        );
        if (expr) rules.push({ cmd: rule.cmd, expr });
      });
      const isDefault = p.is_default === true;
      if (isDefault) defaults.push(name);
      if (order) {
        const policy: DependencyPolicy = { name, isDefault, eventPriorityOrder: order, rules };
        this.policies.set(name, policy);
        if (isDefault && !this.defaultPolicy) this.defaultPolicy = policy;
      }
    }
    if (defaults.length === 0 && !this.policiesBroken) {
      this.err('dependency_policies', 'exactly one policy must have is_default: true (none has)');
    } else if (defaults.length > 1) {
      this.err(
        'dependency_policies',
        `exactly one policy must have is_default: true (${defaults.join(', ')} have)`,
      );
    }
  }

  private parseOrder(path: string, text: string, fields: Fields, what: string): IndexDef | undefined {
    let def: IndexDef;
    try {
      def = parseOrderDef(text);
    } catch (x) {
      this.err(path, exprErrorText(x));
      return undefined;
    }
    const names = Object.keys(fields);
    let ok = true;
    for (const c of def.components) {
      if (!(c.field in fields)) {
        ok = false;
        this.err(
          path,
          `unknown field ${c.field}${didYouMean(c.field, names)} (${what}: ${names.join(', ')})`,
        );
      }
    }
    return ok ? def : undefined;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Tables and indexes

  private registerTable(node: string, raw: RawNode): void {
    if (raw.type === 'table_file') return;
    const w = raw.w;
    const base = ['nodes', node, 'w'];
    const namePath = joinPath(...base, 'name');
    const t = w.name;
    if (!TABLE_NAME.test(t))
      this.err(namePath, `table name ${JSON.stringify(t)} may contain only A-Z, a-z, 0-9 and _`);
    else if (/^(idx|wf|system)/i.test(t))
      this.err(namePath, `table name ${t} must not start with idx, wf or system`);
    if (t.length > MAX_NAME) this.err(namePath, `table name ${t} is longer than ${MAX_NAME} characters`);
    const prev = this.tables.get(t);
    if (prev) {
      this.err(namePath, `table ${t} is already created by node ${prev.node} (one creator per table)`);
      for (const idx of Object.keys(w.indexes ?? {}))
        this.checkIndexName(joinPath(...base, 'indexes', idx), idx);
      return;
    }
    const fields: Fields = {};
    const seen = new Map<string, string>();
    for (const [f, def] of Object.entries(w.fields)) {
      const fp = joinPath(...base, 'fields', f);
      if (!IDENT.test(f))
        this.err(fp, `field name ${JSON.stringify(f)} must be a letter or _ followed by letters, digits, _`);
      else if (f.toLowerCase() === 'rowid')
        this.err(fp, 'rowid is reserved (every table has a rowid column)');
      const lower = f.toLowerCase();
      const clash = seen.get(lower);
      if (clash)
        this.err(
          fp,
          `field ${f} differs from field ${clash} only in case (table columns are case-insensitive)`,
        );
      seen.set(lower, f);
      fields[f] = def.type;
    }
    const info: TableInfo = { node, fields, indexes: new Map() };
    this.tables.set(t, info);
    for (const [idx, text] of Object.entries(w.indexes ?? {})) {
      const ip = joinPath(...base, 'indexes', idx);
      this.checkIndexName(ip, idx);
      const owner = this.indexOwner.get(idx);
      if (owner !== undefined) {
        this.err(ip, `index ${idx} is already defined by node ${owner}`);
        continue;
      }
      this.indexOwner.set(idx, node);
      let def: IndexDef | undefined;
      try {
        def = parseIndexDef(text);
        for (const c of def.components) {
          if (!(c.field in fields)) {
            this.err(
              ip,
              `unknown field ${c.field}${didYouMean(c.field, Object.keys(fields))} in index of table ${t}`,
            );
            def = undefined;
            break;
          }
        }
      } catch (x) {
        this.err(ip, exprErrorText(x));
      }
      info.indexes.set(idx, def);
    }
  }

  private checkIndexName(path: string, idx: string): void {
    if (!INDEX_NAME.test(idx)) {
      this.err(path, `index name ${idx} must start with idx and contain only A-Z, a-z, 0-9, _`);
    }
    if (idx.length > MAX_NAME) this.err(path, `index name ${idx} is longer than ${MAX_NAME} characters`);
  }

  private checkIndexNamesAgainstTables(): void {
    for (const [idx, owner] of this.indexOwner) {
      if (this.tables.has(idx))
        this.err(joinPath('nodes', owner, 'w', 'indexes', idx), `index ${idx} has the name of a table`);
    }
  }

  private checkIndexUsage(): void {
    this.checkIndexNamesAgainstTables();
    for (const [idx, owner] of this.indexOwner) {
      if (this.usedIndexes.has(idx) || idx.includes('to_check_uniq')) continue;
      this.err(
        joinPath('nodes', owner, 'w', 'indexes', idx),
        `index ${idx} is not used by any lookup (l.index_name) nor as the unique index of a distinct_table; ` +
          'an index kept only to enforce uniqueness must have to_check_uniq in its name',
      );
    }
  }

  /** `{batch_idx}` / `{run_id}` are substituted only in w.url_template of table_file nodes. */
  private checkReservedPlaceholders(data: unknown, good: ReadonlyMap<string, RawNode>): void {
    if (this.src.reservedKept.size === 0) return;
    const visit = (v: unknown, path: (string | number)[]): void => {
      if (typeof v === 'string') {
        const m = /\{(batch_idx|run_id)\|string\}/.exec(v);
        if (!m) return;
        const [n0, node, w, key] = path;
        const ok =
          path.length === 4 &&
          n0 === 'nodes' &&
          w === 'w' &&
          key === 'url_template' &&
          good.get(String(node))?.type === 'table_file';
        if (!ok) {
          this.err(joinPath(...path), `{${m[1]}} is only replaced in w.url_template of table_file nodes`);
        }
      } else if (Array.isArray(v)) v.forEach((x, i) => visit(x, [...path, i]));
      else if (isObject(v)) for (const [k, x] of Object.entries(v)) visit(x, [...path, k]);
    };
    visit(data, []);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Nodes

  private async buildNode(name: string, raw: RawNode): Promise<ScriptNode | undefined> {
    const base = ['nodes', name];
    const policyName = raw.dependency_policy;
    let policy = this.defaultPolicy;
    if (policyName !== undefined) {
      policy = this.policies.get(policyName);
      if (!policy && !this.policiesBroken) {
        this.err(
          joinPath(...base, 'dependency_policy'),
          `unknown dependency policy ${policyName}${didYouMean(policyName, [...this.policies.keys()])}`,
        );
      }
    }
    const common = {
      name,
      desc: raw.desc ?? '',
      startPolicy: raw.start_policy ?? 'auto',
      rerunPolicy: raw.rerun_policy ?? 'rerun',
      maxBatchProcessingTimeMs: raw.max_batch_processing_time ?? DEFAULT_MAX_BATCH_MS,
    };
    if (raw.type === 'file_table') {
      const r = this.fileReader(base, raw.r);
      const w = this.tableCreator(base, raw.w, { r: r.fields }, false);
      if (!r.def || !w || !policy) return undefined;
      return { ...common, type: 'file_table', dependencyPolicy: policy, r: r.def, w };
    }

    const r = this.tableReader(base, name, raw.r);
    if (raw.type === 'table_file') {
      const w = this.fileCreator(base, raw.w, r?.fields);
      if (!r || !w || !policy) return undefined;
      return { ...common, type: 'table_file', dependencyPolicy: policy, r: r.def, w };
    }
    if (raw.type === 'table_table' || raw.type === 'distinct_table') {
      const w = r?.fields ? this.tableCreator(base, raw.w, { r: r.fields }, false) : undefined;
      if (raw.type === 'distinct_table') {
        const distinctIndex = this.distinctChecks(base, raw.w, common.rerunPolicy, w);
        if (!r || !w || !policy || !distinctIndex) return undefined;
        return { ...common, type: 'distinct_table', dependencyPolicy: policy, r: r.def, w, distinctIndex };
      }
      if (!r || !w || !policy) return undefined;
      return { ...common, type: 'table_table', dependencyPolicy: policy, r: r.def, w };
    }
    if (raw.type === 'table_lookup_table') {
      const l = this.lookup(base, name, raw.l, r?.fields);
      const w =
        r?.fields && l?.rightFields
          ? this.tableCreator(base, raw.w, { r: r.fields, l: l.rightFields }, raw.l.group === true)
          : undefined;
      if (!r || !l?.def || !w || !policy) return undefined;
      return { ...common, type: 'table_lookup_table', dependencyPolicy: policy, r: r.def, l: l.def, w };
    }
    // table_custom_tfm_table
    const p = r?.fields ? await this.customProcessor(base, name, raw, r.fields) : undefined;
    const w =
      r?.fields && p?.outputs
        ? this.tableCreator(base, raw.w, { r: r.fields, p: p.outputs }, false)
        : undefined;
    if (!r || !p?.def || !w || !policy) return undefined;
    const node: CustomTfmTableNode = {
      ...common,
      type: 'table_custom_tfm_table',
      customProcType: raw.custom_proc_type,
      dependencyPolicy: policy,
      r: r.def,
      p: p.def,
      w,
    };
    return node;
  }

  /** The reader, or only its fields when something is wrong (so the writer can still be checked). */
  private fileReader(base: readonly string[], raw: RawFileReader): { def?: FileReaderDef; fields: Fields } {
    const rp = [...base, 'r'];
    let ok = true;
    const columns: FileReaderColumn[] = [];
    for (const [name, c] of Object.entries(raw.columns)) {
      const cp = [...rp, 'columns', name];
      if (!IDENT.test(name)) {
        this.err(
          joinPath(...cp),
          `column name ${JSON.stringify(name)} must be a letter or _ followed by letters, digits, _`,
        );
        ok = false;
      }
      const col: FileReaderColumn = { name, type: c.col_type };
      if (c.col_default_value !== undefined) col.defaultValue = c.col_default_value;
      if (c.csv?.col_idx !== undefined) col.csvColIdx = c.csv.col_idx;
      if (c.csv?.col_hdr !== undefined && c.csv.col_hdr !== '') col.csvColHdr = c.csv.col_hdr;
      if (c.csv?.col_format !== undefined && c.csv.col_format !== '') col.csvColFormat = c.csv.col_format;
      if (c.parquet?.col_name !== undefined && c.parquet.col_name !== '')
        col.parquetColName = c.parquet.col_name;
      columns.push(col);
    }
    const parquet = columns.some((c) => c.parquetColName !== undefined);
    const headerCols = columns.filter((c) => c.csvColHdr !== undefined);
    let kind: 'csv' | 'parquet' = 'csv';
    let columnMode: 'header' | 'index' = 'index';
    if (parquet) {
      kind = 'parquet';
      for (const c of columns) {
        if (c.parquetColName === undefined) {
          this.err(
            joinPath(...rp, 'columns', c.name, 'parquet', 'col_name'),
            'is required: other columns are read from Parquet',
          );
          ok = false;
        }
      }
    } else if (headerCols.length > 0) {
      columnMode = 'header';
      const byIndex = columns.filter((c) => c.csvColHdr === undefined).map((c) => c.name);
      if (byIndex.length > 0) {
        this.err(
          joinPath(...rp, 'columns'),
          `columns are addressed by header text (csv.col_hdr: ${headerCols.map((c) => c.name).join(', ')}) ` +
            `and by index (${byIndex.join(', ')}); one reader cannot mix both: give every column a col_hdr, or none`,
        );
        ok = false;
      }
    } else if (!(columns.some((c) => (c.csvColIdx ?? 0) > 0) || columns.length === 1)) {
      this.err(
        joinPath(...rp, 'columns'),
        'cannot tell how to read the file: give csv.col_hdr or csv.col_idx for the columns (or parquet.col_name)',
      );
      ok = false;
    }
    if (kind === 'csv') {
      for (const c of columns) {
        const fp = joinPath(...rp, 'columns', c.name, 'csv', 'col_format');
        if ((c.type === 'string' || c.type === 'bool') && c.csvColFormat !== undefined) {
          this.err(fp, `must be absent for a ${c.type} column`);
          ok = false;
        }
        if (c.type === 'datetime' && c.csvColFormat === undefined) {
          this.err(fp, 'is required for a datetime column (a Go time layout such as 2006-01-02 15:04:05)');
          ok = false;
        }
      }
      if (columnMode === 'index') {
        const byIdx = new Map<number, string>();
        for (const c of columns) {
          const i = c.csvColIdx ?? 0;
          const other = byIdx.get(i);
          if (other !== undefined) {
            this.problems.warn(
              this.file,
              joinPath(...rp, 'columns', c.name),
              `reads the same CSV column ${i} as ${other}`,
            );
          }
          byIdx.set(i, c.name);
        }
      }
    }
    for (const c of columns) {
      if (c.defaultValue === undefined || c.defaultValue.trim() === '') continue;
      if (kind === 'parquet') {
        this.problems.warn(
          this.file,
          joinPath(...rp, 'columns', c.name, 'col_default_value'),
          'ignored for Parquet input',
        );
        continue;
      }
      const problem = checkReaderDefault(c);
      if (problem) {
        this.err(joinPath(...rp, 'columns', c.name, 'col_default_value'), problem);
        ok = false;
      }
    }
    raw.urls.forEach((u, i) => {
      if (u.trim() === '') {
        this.err(joinPath(...rp, 'urls', i), 'must not be empty');
        ok = false;
      }
    });
    const fields = fieldsOfColumns(columns);
    if (!ok) return { fields };
    const def: FileReaderDef = {
      urls: [...raw.urls],
      kind,
      csv: {
        hdrLineIdx: raw.csv?.hdr_line_idx ?? 0,
        firstDataLineIdx: raw.csv?.first_data_line_idx ?? 0,
        separator: raw.csv?.separator || ',',
      },
      columns,
      columnMode,
    };
    return { def, fields };
  }

  /** The reader's table and its fields; `fields` is undefined when the table's node is broken. */
  private tableReader(
    base: readonly string[],
    node: string,
    raw: RawTableReader,
  ): { def: TableReaderDef; fields?: Fields } | undefined {
    const path = joinPath(...base, 'r', 'table');
    const def: TableReaderDef = {
      table: raw.table,
      expectedBatchesTotal: raw.expected_batches_total ?? 1,
      rowsetSize: raw.rowset_size || DEFAULT_ROWSET,
    };
    const info = this.tables.get(raw.table);
    if (!info) {
      if (this.opaqueTables.has(raw.table)) return { def };
      this.err(path, `no node creates table ${raw.table}${didYouMean(raw.table, [...this.tables.keys()])}`);
      return undefined;
    }
    if (info.node === node) {
      this.err(path, `node reads its own table ${raw.table}`);
      return undefined;
    }
    this.edges.push({ from: info.node, to: node, table: raw.table, kind: 'reader' });
    return info.fields ? { def, fields: info.fields } : { def };
  }

  private lookup(
    base: readonly string[],
    node: string,
    raw: Extract<RawNode, { type: 'table_lookup_table' }>['l'],
    leftFields: Fields | undefined,
  ): { def?: LookupDef; rightFields?: Fields } | undefined {
    const lp = [...base, 'l'];
    const owner = this.indexOwner.get(raw.index_name);
    if (owner === undefined) {
      if (!this.opaqueIndexes.has(raw.index_name)) {
        this.err(
          joinPath(...lp, 'index_name'),
          `no node defines index ${raw.index_name}${didYouMean(raw.index_name, [...this.indexOwner.keys()])}`,
        );
      }
      return undefined;
    }
    this.usedIndexes.add(raw.index_name);
    const rightEntry = [...this.tables.entries()].find(([, t]) => t.node === owner);
    if (!rightEntry) return undefined;
    const [rightTable, right] = rightEntry;
    if (owner === node) {
      this.err(joinPath(...lp, 'index_name'), `index ${raw.index_name} belongs to this node's own table`);
      return undefined;
    }
    this.edges.push({ from: owner, to: node, table: rightTable, kind: 'lookup' });
    const index = right.indexes.get(raw.index_name);
    const rightOnly = right.fields ? { rightFields: right.fields } : {};
    if (!index) return rightOnly; // reported where the index is defined

    let ok = true;
    const joinOn: string[] = [];
    const parts = raw.join_on.split(',').map((s) => s.trim());
    const jp = joinPath(...lp, 'join_on');
    for (const part of parts) {
      const m = /^r\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(part);
      if (!m) {
        this.err(jp, `${JSON.stringify(part)} is not a left field reference r.<field>`);
        ok = false;
        continue;
      }
      const f = m[1] as string;
      if (leftFields && !(f in leftFields)) {
        this.err(jp, `unknown field r.${f}${didYouMean(f, Object.keys(leftFields))}`);
        ok = false;
      }
      joinOn.push(f);
    }
    if (ok && joinOn.length !== index.components.length) {
      this.err(
        jp,
        `has ${joinOn.length} field${joinOn.length === 1 ? '' : 's'} but index ${raw.index_name} has ` +
          `${index.components.length} component${index.components.length === 1 ? '' : 's'}`,
      );
      ok = false;
    }
    if (ok && leftFields && right.fields) {
      index.components.forEach((c, i) => {
        const lf = joinOn[i] as string;
        const lt = leftFields[lf];
        const rt = right.fields?.[c.field];
        if (lt !== rt) {
          this.err(
            jp,
            `r.${lf} is ${lt ?? '?'} but index component ${c.field} of ${raw.index_name} is ${rt ?? '?'}`,
          );
          ok = false;
        } else if (lf !== c.field && c.field in leftFields) {
          this.problems.warn(
            this.file,
            jp,
            `r.${lf} is joined with index component ${c.field}, and the left table also has a field ${c.field}: ` +
              `the key is built from r.${c.field}, as Capillaries does`,
          );
        }
      });
    }
    let filter: CompiledExpr | undefined;
    if (raw.filter !== undefined && raw.filter.trim() !== '' && right.fields) {
      filter = this.compile(
        joinPath(...lp, 'filter'),
        raw.filter,
        { vars: { l: right.fields }, decimalRounding: false },
        'bool-condition',
      );
      if (!filter) ok = false;
    }
    if (!ok) return rightOnly;
    const def: LookupDef = {
      indexName: raw.index_name,
      index,
      rightTable,
      joinOn,
      joinType: raw.join_type,
      group: raw.group === true,
      idxReadBatchSize: raw.idx_read_batch_size || DEFAULT_LOOKUP_PAGE,
      rightLookupReadBatchSize: raw.right_lookup_read_batch_size || DEFAULT_LOOKUP_PAGE,
    };
    if (filter) def.filter = filter;
    return { def, ...rightOnly };
  }

  private tableCreator(
    base: readonly string[],
    raw: RawTableCreator,
    vars: Record<string, Fields>,
    grouped: boolean,
  ): TableCreatorDef | undefined {
    const wp = [...base, 'w'];
    const info = this.tables.get(raw.name);
    if (!info || info.node !== base[1]) return undefined; // duplicate table: reported
    let ok = true;
    const fields: TableFieldDef[] = [];
    for (const [name, f] of Object.entries(raw.fields)) {
      const fp = joinPath(...wp, 'fields', name, 'expression');
      let expr = this.compile(fp, f.expression, { vars, aggregates: grouped, decimalRounding: true }, f.type);
      if (expr && grouped && !expr.aggregate) {
        // non-aggregate fields of grouped lookups are evaluated without decimal rounding (spec §2.4)
        expr = this.compile(fp, f.expression, { vars, aggregates: true, decimalRounding: false }, f.type);
      }
      if (!expr) {
        ok = false;
        continue;
      }
      const def: TableFieldDef = { name, type: f.type, expr };
      if (f.default_value !== undefined) {
        try {
          parseDefaultValue(f.type, f.default_value);
          def.defaultValue = f.default_value;
        } catch (x) {
          this.err(joinPath(...wp, 'fields', name, 'default_value'), describeError(x));
          ok = false;
        }
      }
      fields.push(def);
    }
    let having: CompiledExpr | undefined;
    if (raw.having !== undefined && raw.having.trim() !== '') {
      having = this.compile(
        joinPath(...wp, 'having'),
        raw.having,
        { vars: { w: info.fields ?? {} }, decimalRounding: false },
        'bool-condition',
      );
      if (!having) ok = false;
    }
    const indexes: TableIndex[] = [];
    for (const [name, def] of info.indexes) {
      if (def) indexes.push({ name, def });
      else ok = false;
    }
    if (!ok) return undefined;
    const out: TableCreatorDef = { name: raw.name, fields, indexes };
    if (having) out.having = having;
    if (raw.table_options !== undefined && raw.table_options.trim() !== '')
      out.tableOptions = raw.table_options;
    return out;
  }

  private distinctChecks(
    base: readonly string[],
    raw: RawTableCreator,
    rerunPolicy: string,
    w: TableCreatorDef | undefined,
  ): TableIndex | undefined {
    const wp = [...base, 'w'];
    let ok = true;
    if (rerunPolicy !== 'fail') {
      this.err(joinPath(...base, 'rerun_policy'), 'a distinct_table must have rerun_policy: fail');
      ok = false;
    }
    if (raw.having !== undefined && raw.having.trim() !== '') {
      this.err(joinPath(...wp, 'having'), 'a distinct_table cannot have having');
      ok = false;
    }
    const info = this.tables.get(raw.name);
    const defs = info ? [...info.indexes.entries()] : [];
    const unique = defs.filter(([, d]) => d?.unique === true);
    if (defs.every(([, d]) => d !== undefined) && unique.length !== 1) {
      this.err(
        joinPath(...wp, 'indexes'),
        `a distinct_table needs exactly one unique(...) index (found ${unique.length}); other indexes must be non_unique`,
      );
      ok = false;
    }
    const first = unique[0];
    // the unique index is this node's even when the node has other problems (no second, misleading error)
    if (first) this.usedIndexes.add(first[0]);
    if (!ok || !w || !first || !first[1]) return undefined;
    return { name: first[0], def: first[1] };
  }

  private fileCreator(
    base: readonly string[],
    raw: RawFileCreator,
    readerFields: Fields | undefined,
  ): FileCreatorDef | undefined {
    const wp = [...base, 'w'];
    let ok = true;
    const urlPath = joinPath(...wp, 'url_template');
    if (/^https?:\/\//i.test(raw.url_template)) {
      this.err(urlPath, 'output cannot be written to http(s) URLs: use a path, s3://bucket/key or sftp://');
      ok = false;
    }
    const first = raw.columns[0];
    let kind: 'csv' | 'parquet' | undefined;
    if (first?.parquet?.column_name) kind = 'parquet';
    else if (first?.csv !== undefined) kind = 'csv';
    else {
      this.err(
        joinPath(...wp, 'columns', 0),
        'cannot tell the output format: the first column needs csv.header (CSV) or parquet.column_name (Parquet)',
      );
      ok = false;
    }
    const colTypes: Fields = {};
    const columns: FileColumnDef[] = [];
    const seenParquet = new Set<string>();
    raw.columns.forEach((c, i) => {
      const cp = [...wp, 'columns', i];
      if (!IDENT.test(c.name)) {
        this.err(
          joinPath(...cp, 'name'),
          `column name ${JSON.stringify(c.name)} must be a letter or _ followed by letters, digits, _`,
        );
        ok = false;
      }
      if (c.name in colTypes) {
        this.err(joinPath(...cp, 'name'), `duplicate column name ${c.name}`);
        ok = false;
      }
      colTypes[c.name] = c.type;
      if (kind === 'parquet') {
        const pn = c.parquet?.column_name;
        if (!pn) {
          this.err(joinPath(...cp, 'parquet', 'column_name'), 'is required: the output is Parquet');
          ok = false;
        } else if (seenParquet.has(pn)) {
          this.err(joinPath(...cp, 'parquet', 'column_name'), `duplicate Parquet column name ${pn}`);
          ok = false;
        } else seenParquet.add(pn);
      }
      if (!readerFields) return;
      const expr = this.compile(
        joinPath(...cp, 'expression'),
        c.expression,
        { vars: { r: readerFields }, decimalRounding: true },
        c.type,
      );
      if (!expr) {
        ok = false;
        return;
      }
      const col: FileColumnDef = { name: c.name, type: c.type, expr };
      if (c.csv?.header !== undefined) col.csvHeader = c.csv.header;
      if (c.csv?.format !== undefined) col.csvFormat = c.csv.format;
      if (c.parquet?.column_name) col.parquetColumnName = c.parquet.column_name;
      columns.push(col);
    });
    let having: CompiledExpr | undefined;
    if (raw.having !== undefined && raw.having.trim() !== '') {
      having = this.compile(
        joinPath(...wp, 'having'),
        raw.having,
        { vars: { w: colTypes }, decimalRounding: false },
        'bool-condition',
      );
      if (!having) ok = false;
    }
    let top: FileCreatorDef['top'];
    if (raw.top) {
      const order = this.parseOrder(joinPath(...wp, 'top', 'order'), raw.top.order, colTypes, 'columns');
      if (order) top = { order, limit: raw.top.limit ?? DEFAULT_TOP_LIMIT };
      else ok = false;
    }
    if (!ok || !kind || !readerFields) return undefined;
    const def: FileCreatorDef = {
      urlTemplate: raw.url_template.replace(/\{(batch_idx|run_id)\|string\}/g, '{$1}'),
      kind,
      columns,
      csvSeparator: raw.csv?.separator || ',',
      parquetCodec: raw.parquet?.codec ?? 'gzip',
    };
    if (having) def.having = having;
    if (top) def.top = top;
    return def;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Custom processors

  private async customProcessor(
    base: readonly string[],
    node: string,
    raw: Extract<RawNode, { type: 'table_custom_tfm_table' }>,
    readerFields: Fields,
  ): Promise<{ def?: CustomProcessorDef; outputs?: Fields } | undefined> {
    const pp = [...base, 'p'];
    if (raw.custom_proc_type === 'tag_and_denormalize') {
      if (!checkAgainst(TagAndDenormalizeSchema, raw.p, this.file, pp, this.problems)) return undefined;
      return this.tagAndDenormalize(pp, node, raw.p as RawTagAndDenormalize, readerFields);
    }
    if (!checkAgainst(PyCalcSchema, raw.p, this.file, pp, this.problems)) return undefined;
    return this.pyCalc(pp, raw.p as RawPyCalc, readerFields);
  }

  private async tagAndDenormalize(
    pp: readonly string[],
    node: string,
    raw: RawTagAndDenormalize,
    readerFields: Fields,
  ): Promise<{ def?: TagAndDenormalizeDef; outputs?: Fields }> {
    let ok = true;
    const outputs: Fields = {};
    if (!IDENT.test(raw.tag_field_name)) {
      this.err(joinPath(...pp, 'tag_field_name'), 'must be a letter or _ followed by letters, digits, _');
      ok = false;
    } else outputs[raw.tag_field_name] = 'string';
    const hasInline = raw.tag_criteria !== undefined;
    const hasUrl = raw.tag_criteria_url !== undefined && raw.tag_criteria_url !== '';
    if (hasInline === hasUrl) {
      this.err(joinPath(...pp), 'give exactly one of tag_criteria and tag_criteria_url');
      return { outputs };
    }
    let criteriaMap: Record<string, string> | undefined = raw.tag_criteria;
    let file = this.file;
    let basePath: (string | number)[] = [...pp, 'tag_criteria'];
    let usedBy = '';
    if (hasUrl) {
      const url = raw.tag_criteria_url as string;
      file = fileLabel(url);
      basePath = [];
      usedBy = ` (tag criteria of node ${node})`;
      const text = await readOrReport(
        this.readText,
        url,
        this.problems,
        this.file,
        joinPath(...pp, 'tag_criteria_url'),
        'tag criteria file',
      );
      if (text === undefined) return { outputs };
      let data: unknown;
      try {
        data = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
      } catch (x) {
        this.problems.add(file, '', `invalid JSON${usedBy}: ${describeError(x)}`);
        return { outputs };
      }
      if (!isObject(data) || !Object.values(data).every((v) => typeof v === 'string')) {
        this.problems.add(
          file,
          '',
          `must be a JSON object mapping each tag to a criterion expression (string)${usedBy}`,
        );
        return { outputs };
      }
      criteriaMap = data as Record<string, string>;
    }
    const criteria: TagAndDenormalizeDef['criteria'] = [];
    for (const [tag, source] of Object.entries(criteriaMap ?? {})) {
      const path = joinPath(...basePath, tag);
      let expr: CompiledExpr | undefined;
      try {
        expr = compileExpression(source, { vars: { r: readerFields }, decimalRounding: false });
        if (expr.type !== 'bool') {
          this.problems.add(
            file,
            path,
            `must be a bool expression (its type is ${typeName(expr.type)})${usedBy}`,
          );
          ok = false;
        }
      } catch (x) {
        this.problems.add(file, path, `${this.explainExprError(x, { vars: { r: readerFields } })}${usedBy}`);
        ok = false;
      }
      if (expr) criteria.push({ tag, expr });
    }
    if (!ok) return { outputs };
    const def: TagAndDenormalizeDef = {
      kind: 'tag_and_denormalize',
      tagFieldName: raw.tag_field_name,
      criteria,
    };
    if (hasUrl) def.criteriaUrl = raw.tag_criteria_url as string;
    return { def, outputs };
  }

  private async pyCalc(
    pp: readonly string[],
    raw: RawPyCalc,
    readerFields: Fields,
  ): Promise<{ def?: PyCalcDef; outputs: Fields }> {
    let ok = true;
    const parts: string[] = [];
    for (const [i, url] of raw.python_code_urls.entries()) {
      const t = await readOrReport(
        this.readText,
        url,
        this.problems,
        this.file,
        joinPath(...pp, 'python_code_urls', i),
        'Python code file',
      );
      if (t === undefined) ok = false;
      else parts.push(t);
    }
    const code = parts.join('\n');
    const defs = findPythonDefs(code);
    const outputs: Fields = {};
    for (const [name, f] of Object.entries(raw.calculated_fields)) outputs[name] = f.type;

    const parsed = new Map<string, { expr: PyExpr; source: string; type: FieldType; deps: string[] }>();
    for (const [name, f] of Object.entries(raw.calculated_fields)) {
      const fp = joinPath(...pp, 'calculated_fields', name, 'expression');
      if (!IDENT.test(name)) {
        this.err(
          joinPath(...pp, 'calculated_fields', name),
          'field name must be a letter or _ followed by letters, digits, _',
        );
        ok = false;
      }
      let expr: PyExpr;
      try {
        expr = parsePyExpr(f.expression);
      } catch (x) {
        const pos = x instanceof PyExprError ? ` (at column ${x.pos + 1})` : '';
        this.err(fp, `${describeError(x)}${pos}`);
        ok = false;
        continue;
      }
      const deps: string[] = [];
      walkPy(expr, (e) => {
        if (e.kind === 'field') {
          if (e.alias === 'r') {
            if (!(e.field in readerFields)) {
              this.err(
                fp,
                `unknown field r.${e.field}${didYouMean(e.field, Object.keys(readerFields)).replace('mean ', 'mean r.')}`,
              );
              ok = false;
            }
          } else if (e.alias === 'p') {
            if (!(e.field in outputs)) {
              this.err(
                fp,
                `unknown field p.${e.field}${didYouMean(e.field, Object.keys(outputs)).replace('mean ', 'mean p.')}`,
              );
              ok = false;
            } else if (!deps.includes(e.field)) deps.push(e.field);
          } else {
            this.err(fp, `${e.alias}.${e.field}: py_calc expressions may use only r.* and p.* fields`);
            ok = false;
          }
        } else if (e.kind === 'call') {
          const d = defs.get(e.func);
          const n = e.args.length;
          if (d) {
            if (n < d.required || n > d.max) {
              const want =
                d.required === d.max
                  ? `${d.required}`
                  : d.max === Infinity
                    ? `at least ${d.required}`
                    : `${d.required} to ${d.max}`;
              this.err(
                fp,
                `${e.func}() takes ${want} argument${want === '1' ? '' : 's'} in the Python code, called with ${n}`,
              );
              ok = false;
            }
          } else if (PY_BUILTINS.includes(e.func)) {
            if (n !== 1) {
              this.err(
                fp,
                `${e.func}() is called with ${n} arguments; built-ins ${PY_BUILTINS.join(', ')} take 1`,
              );
              ok = false;
            }
          } else {
            this.err(
              fp,
              `function ${e.func} is not defined in python_code_urls (no "def ${e.func}(...)") and is not one of ` +
                `${PY_BUILTINS.join(', ')}${didYouMean(e.func, [...defs.keys()])}`,
            );
            ok = false;
          }
        }
      });
      parsed.set(name, { expr, source: f.expression, type: f.type, deps });
    }
    // calculation order: p.* dependencies first
    const order: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (n: string, chain: string[]): void => {
      const s = state.get(n);
      if (s === 'done') return;
      if (s === 'visiting') {
        const cyc = [...chain.slice(chain.indexOf(n)), n].map((x) => `p.${x}`).join(' → ');
        this.err(
          joinPath(...pp, 'calculated_fields', n, 'expression'),
          `calculated fields depend on each other in a cycle: ${cyc}`,
        );
        ok = false;
        return;
      }
      state.set(n, 'visiting');
      for (const d of parsed.get(n)?.deps ?? []) visit(d, [...chain, n]);
      state.set(n, 'done');
      order.push(n);
    };
    for (const n of parsed.keys()) visit(n, []);
    if (!ok) return { outputs };

    const usedReaderFields: string[] = [];
    const calculatedFields: PyCalcField[] = order.map((n) => {
      const p = parsed.get(n) as { expr: PyExpr; source: string; type: FieldType; deps: string[] };
      walkPy(p.expr, (e) => {
        if (e.kind === 'field' && e.alias === 'r' && !usedReaderFields.includes(e.field))
          usedReaderFields.push(e.field);
      });
      return {
        name: n,
        type: p.type,
        expression: p.source,
        pythonExpression: toPython(p.source, p.expr),
        dependsOn: p.deps,
      };
    });
    return {
      def: {
        kind: 'py_calc',
        pythonCode: code,
        pythonCodeUrls: [...raw.python_code_urls],
        calculatedFields,
        usedReaderFields,
      },
      outputs,
    };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function fieldsOfColumns(cols: readonly FileReaderColumn[]): Fields {
  const out: Fields = {};
  for (const c of cols) out[c.name] = c.type;
  return out;
}

/** Whether a reader column's default text parses as its type (spec §3.1); returns the problem or undefined. */
function checkReaderDefault(c: FileReaderColumn): string | undefined {
  const text = c.defaultValue ?? '';
  try {
    switch (c.type) {
      case 'int':
        parseGoInt(text.trim());
        break;
      case 'float':
        parseGoFloat(text.trim());
        break;
      case 'decimal2':
        parseGoDecimal(text.trim());
        break;
      case 'bool':
        parseGoBool(text.trim());
        break;
      case 'datetime':
        goTimeParse(c.csvColFormat ?? '', text);
        break;
      case 'string':
        break;
    }
    return undefined;
  } catch (x) {
    const layout = c.type === 'datetime' ? ` with layout ${JSON.stringify(c.csvColFormat ?? '')}` : '';
    return `${describeValue(text)} is not a valid ${c.type}${layout}: ${describeError(x)}`;
  }
}

/** Builds and validates the model; returns undefined when `problems` got any. Transient read failures are thrown. */
export async function buildScript(
  src: ScriptSource,
  problems: Problems,
  readText: (url: string) => Promise<string>,
): Promise<Script | undefined> {
  return new Builder(src, problems, readText).build();
}
