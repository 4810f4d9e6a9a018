import { UserInputError } from '../errors/index.js';
import type { CsvRecord } from '../io/index.js';
import { findParamReference, type RawNode, type RawScript } from '../script/index.js';
import type { FieldType } from '../values/index.js';
import { WRITE_FORMATS, inferColumnTypes, type InferredType } from './infer.js';
import { baseFileName, fieldNames, tableNameFor } from './names.js';
import { SAMPLE_LINES, checkCsvLineOptions, collectCsvSample } from './sample.js';

/**
 * The two-node script proto_file_reader_creator prints: `read_file` (file_table, start_policy manual) loads
 * the file into a table named after it, `write_file` (table_file) writes the table back out, CSV with the
 * input's header names, column order and separator, or Parquet with the input's column names. The caller
 * prints it; running it with start node read_file reproduces the input (rows in table order: add a `top` to
 * write_file to order them).
 */

/** Where write_file writes unless told otherwise (Capillaries' generator writes there). */
export const DEFAULT_PROTO_OUT_DIR = '/tmp/capi_out/proto_file_reader_creator_quicktest';

export const READ_NODE = 'read_file';
export const WRITE_NODE = 'write_file';

export interface GeneratedScript {
  readonly script: RawScript;
  /** Things the user should know (columns skipped, types that could not be inferred, names to fix). */
  readonly warnings: readonly string[];
}

interface Common {
  /** The input as r.urls gets it (a local path should be absolute, so the script runs from anywhere). */
  readonly fileUrl: string;
  /** Directory (or URL prefix) write_file writes into; default DEFAULT_PROTO_OUT_DIR. */
  readonly outDir?: string;
}

export interface CsvProtoOptions extends Common {
  /** File name or URL for messages (default fileUrl). */
  readonly source?: string;
  /** Field separator: one ASCII character (default `,`). */
  readonly separator?: string;
  /** Record index of the header line; -1 (default): no header, columns by index. */
  readonly hdrLineIdx?: number;
  /** Record index of the first data line (default: the line after the header, or 0). */
  readonly firstDataLineIdx?: number;
  /** Data lines sampled (default 100). */
  readonly maxSampleLines?: number;
}

export interface CsvScriptInput extends Common {
  readonly separator: string;
  readonly hdrLineIdx: number;
  readonly firstDataLineIdx: number;
  /** Header fields (header mode), else undefined. */
  readonly header?: readonly string[];
  /** One inferred type per column. */
  readonly types: readonly InferredType[];
}

export interface ParquetScriptInput extends Common {
  /** Readable columns of the file in schema order, with their types. */
  readonly columns: ReadonlyMap<string, FieldType>;
  /** Columns that cannot be read, with the reason (skipped, with a warning). */
  readonly unsupported?: ReadonlyMap<string, string>;
}

/** Capillaries' stock policy, used by every test script: `current_active_first_stopped_nogo`. */
export function stockDependencyPolicies(): RawScript['dependency_policies'] {
  const cur = 'nrs.run_is_current == true';
  const old = 'nrs.run_is_current == false';
  const startOrNone = '(nrs.run_status == wfmodel.RunStart || nrs.run_status == wfmodel.RunNone)';
  return {
    current_active_first_stopped_nogo: {
      is_default: true,
      event_priority_order: 'run_is_current(desc), run_id(desc)',
      rules: [
        {
          cmd: 'go',
          expression: `${cur} && nrs.run_status == wfmodel.RunStart && nrs.node_status == wfmodel.NodeBatchSuccess`,
        },
        { cmd: 'wait', expression: `${cur} && ${startOrNone} && nrs.node_status == wfmodel.NodeBatchNone` },
        { cmd: 'wait', expression: `${cur} && ${startOrNone} && nrs.node_status == wfmodel.NodeBatchStart` },
        {
          cmd: 'nogo',
          expression: `${cur} && nrs.run_status == wfmodel.RunStart && nrs.node_status == wfmodel.NodeBatchFail`,
        },
        {
          cmd: 'go',
          expression: `${old} && nrs.run_status == wfmodel.RunStart && nrs.node_status == wfmodel.NodeBatchSuccess`,
        },
        { cmd: 'wait', expression: `${old} && ${startOrNone} && nrs.node_status == wfmodel.NodeBatchNone` },
        { cmd: 'wait', expression: `${old} && ${startOrNone} && nrs.node_status == wfmodel.NodeBatchStart` },
        {
          cmd: 'go',
          expression: `${old} && nrs.run_status == wfmodel.RunComplete && nrs.node_status == wfmodel.NodeBatchSuccess`,
        },
        {
          cmd: 'nogo',
          expression: `${old} && nrs.run_status == wfmodel.RunComplete && nrs.node_status == wfmodel.NodeBatchFail`,
        },
        { cmd: 'nogo', expression: `${old} && nrs.run_status == wfmodel.RunStop` },
      ],
    },
  };
}

/** `<outDir>/<fileName>` (one `/` between them). */
export function protoOutputUrl(outDir: string, fileName: string): string {
  return `${outDir.replace(/\/+$/, '')}/${fileName}`;
}

/** Checks a separator: exactly one ASCII character that can delimit CSV fields. */
export function checkSeparator(separator: string, source: string): void {
  const bad = (why: string): UserInputError =>
    new UserInputError('PROTO_SEPARATOR', `${source}: separator ${JSON.stringify(separator)} ${why}`);
  if (separator.length !== 1) {
    throw bad(
      separator === ''
        ? 'is empty: give one character (e.g. "," or a tab)'
        : 'must be one character: the reader uses only the first and the writer writes all of them, so the output would differ from the input',
    );
  }
  const c = separator.charCodeAt(0);
  if (c >= 0x80) throw bad('is not an ASCII character (the reader uses the first byte only)');
  if (c === 0x0a || c === 0x0d || c === 0x22 || c === 0)
    throw bad('cannot delimit CSV fields (a quote, a line break or NUL)');
}

function paramRefWarnings(what: string, texts: readonly string[]): string[] {
  return texts.flatMap((t) => {
    const ref = findParamReference(t);
    return ref === undefined
      ? []
      : [
          `${what} ${JSON.stringify(t)} contains ${ref}, which the script loader reads as a parameter reference: rename it, or define that parameter in a params file`,
        ];
  });
}

function writerUrl(c: Common): string {
  return protoOutputUrl(c.outDir ?? DEFAULT_PROTO_OUT_DIR, baseFileName(c.fileUrl));
}

function tableFieldsOf(
  fields: readonly string[],
  types: readonly FieldType[],
): Extract<RawNode, { type: 'file_table' }>['w']['fields'] {
  return Object.fromEntries(fields.map((f, i) => [f, { expression: `r.${f}`, type: types[i] ?? 'string' }]));
}

/** The script for a CSV file whose sample has been read and typed. */
export function buildCsvScript(input: CsvScriptInput): GeneratedScript {
  const source = input.fileUrl;
  checkSeparator(input.separator, source);
  checkCsvLineOptions({ source, hdrLineIdx: input.hdrLineIdx, firstDataLineIdx: input.firstDataLineIdx });
  const warnings: string[] = [];
  const n = input.types.length;
  const header = input.header;
  if (header !== undefined && header.length !== n) {
    throw new UserInputError(
      'PROTO_COLUMNS',
      `${source}: the header has ${header.length} fields but ${n} column types were given`,
    );
  }
  const fields = fieldNames(header ?? Array.from({ length: n }, () => undefined));
  const types = input.types.map((t) => t.type);
  // columns are addressed by header text unless two columns share one (then by index)
  let byHeader = header !== undefined;
  if (header !== undefined) {
    const dup = header.find((h, i) => header.indexOf(h) !== i);
    if (dup !== undefined) {
      byHeader = false;
      warnings.push(
        `${source}: the header has ${JSON.stringify(dup)} more than once: columns are read by index (csv.col_idx)`,
      );
    }
    warnings.push(...paramRefWarnings(`${source}: header`, header));
  }
  const table = tableNameFor(baseFileName(input.fileUrl));
  const outUrl = writerUrl(input);
  warnings.push(...paramRefWarnings('URL', [input.fileUrl, outUrl]));

  const readerColumns: Extract<RawNode, { type: 'file_table' }>['r']['columns'] = {};
  fields.forEach((f, i) => {
    const t = input.types[i] as InferredType;
    const csv: { col_hdr?: string; col_idx?: number; col_format?: string } = byHeader
      ? { col_hdr: header?.[i] ?? '' }
      : { col_idx: i };
    if (t.readFormat !== undefined) csv.col_format = t.readFormat;
    readerColumns[f] = { col_type: t.type, csv };
  });
  const readerCsv = {
    ...(input.hdrLineIdx >= 0 ? { hdr_line_idx: input.hdrLineIdx } : {}),
    first_data_line_idx: input.firstDataLineIdx,
    separator: input.separator,
  };
  const fileName = baseFileName(input.fileUrl);

  const script: RawScript = {
    nodes: {
      [READ_NODE]: {
        type: 'file_table',
        desc: `Load ${fileName} into table ${table}`,
        start_policy: 'manual',
        r: {
          urls: [input.fileUrl],
          csv: readerCsv,
          columns: readerColumns,
        },
        w: { name: table, fields: tableFieldsOf(fields, types) },
      },
      [WRITE_NODE]: {
        type: 'table_file',
        desc: `Write table ${table} to ${fileName}`,
        r: { table, expected_batches_total: 1 },
        w: {
          url_template: outUrl,
          csv: { separator: input.separator },
          columns: fields.map((f, i) => {
            const type = types[i] ?? 'string';
            return {
              name: f,
              expression: `r.${f}`,
              type,
              csv: { header: header?.[i] ?? f, format: WRITE_FORMATS[type] },
            };
          }),
        },
      },
    },
    dependency_policies: stockDependencyPolicies(),
  };
  return { script, warnings };
}

/** Samples a CSV record stream, infers the column types and builds the script. */
export async function protoFromCsv(
  records: AsyncIterable<CsvRecord>,
  options: CsvProtoOptions,
): Promise<GeneratedScript> {
  const source = options.source ?? options.fileUrl;
  const separator = options.separator ?? ',';
  checkSeparator(separator, source);
  const hdrLineIdx = options.hdrLineIdx ?? -1;
  const firstDataLineIdx = options.firstDataLineIdx ?? Math.max(0, hdrLineIdx + 1);
  const sample = await collectCsvSample(records, {
    source,
    hdrLineIdx,
    firstDataLineIdx,
    maxLines: options.maxSampleLines ?? SAMPLE_LINES,
  });
  const types = inferColumnTypes(sample.rows, sample.columns);
  const generated = buildCsvScript({
    fileUrl: options.fileUrl,
    outDir: options.outDir,
    separator,
    hdrLineIdx,
    firstDataLineIdx,
    header: sample.header,
    types,
  });
  const warnings = [...generated.warnings];
  if (sample.rows.length === 0) {
    warnings.unshift(
      `${source}: no data lines from line index ${firstDataLineIdx} on: every column is typed string`,
    );
  } else {
    const undecided = types.flatMap((t, i) => (t.decidedBy === 0 ? [i] : []));
    if (undecided.length > 0) {
      const names = fieldNames(sample.header ?? Array.from({ length: sample.columns }, () => undefined));
      warnings.push(
        `${source}: column(s) ${undecided.map((i) => names[i]).join(', ')} are empty in the ${sample.rows.length} sampled line(s): typed string`,
      );
    }
  }
  return { script: generated.script, warnings };
}

/** The script for a Parquet file, from its schema (types as the Parquet reader maps them). */
export function buildParquetScript(input: ParquetScriptInput): GeneratedScript {
  const source = input.fileUrl;
  const warnings: string[] = [];
  for (const [name, why] of input.unsupported ?? []) {
    warnings.push(`${source}: column ${JSON.stringify(name)} is left out: ${why}`);
  }
  const names = [...input.columns.keys()];
  if (names.length === 0) {
    const why = [...(input.unsupported ?? [])].map(([k, v]) => `${JSON.stringify(k)}: ${v}`);
    throw new UserInputError(
      'PROTO_COLUMNS',
      `${source}: the file has no column that can be read${why.length > 0 ? ` (${why.join('; ')})` : ''}`,
    );
  }
  warnings.push(...paramRefWarnings(`${source}: column`, names));
  const types = names.map((n) => input.columns.get(n) ?? 'string');
  const fields = fieldNames(names);
  const table = tableNameFor(baseFileName(input.fileUrl));
  const fileName = baseFileName(input.fileUrl);
  const outUrl = writerUrl(input);
  warnings.push(...paramRefWarnings('URL', [input.fileUrl, outUrl]));
  const readerColumns: Extract<RawNode, { type: 'file_table' }>['r']['columns'] = {};
  fields.forEach((f, i) => {
    readerColumns[f] = { col_type: types[i] ?? 'string', parquet: { col_name: names[i] ?? f } };
  });
  const script: RawScript = {
    nodes: {
      [READ_NODE]: {
        type: 'file_table',
        desc: `Load ${fileName} into table ${table}`,
        start_policy: 'manual',
        r: { urls: [input.fileUrl], columns: readerColumns },
        w: { name: table, fields: tableFieldsOf(fields, types) },
      },
      [WRITE_NODE]: {
        type: 'table_file',
        desc: `Write table ${table} to ${fileName}`,
        r: { table, expected_batches_total: 1 },
        w: {
          url_template: outUrl,
          columns: fields.map((f, i) => ({
            name: f,
            expression: `r.${f}`,
            type: types[i] ?? 'string',
            parquet: { column_name: names[i] ?? f },
          })),
        },
      },
    },
    dependency_policies: stockDependencyPolicies(),
  };
  return { script, warnings };
}
