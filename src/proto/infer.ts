import { goTimeParse, type FieldType } from '../values/index.js';
import { DATETIME_LAYOUTS } from './layouts.js';

/**
 * Type inference of a data-file column from sample cells, as Capillaries' proto_file_reader_creator does it:
 * each non-empty cell is classified by its shape (an integer, a decimal with exactly two digits after the
 * point, any other number, a bool word, a datetime in one of DATETIME_LAYOUTS, else text) and the column's
 * type is the narrowest type all its cells fit: int widens to decimal2 or float, decimal2 to float, and any
 * other mix becomes string. Empty cells (empty after trimming white space) do not decide anything; a column
 * with no non-empty cell is a string column.
 */

const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]';
const TRIM_RE = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, 'g');

/** Go's strings.TrimSpace (white space as unicode.IsSpace defines it), as the file reader trims cells. */
export function goTrimSpace(s: string): string {
  return s.replace(TRIM_RE, '');
}

const INT_RE = /^[+-]?[0-9]+$/;
const DECIMAL2_RE = /^[+-]?[0-9]+\.[0-9]{2}$/;
const FLOAT_RE = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
/** Words Go's strconv.ParseBool reads (1/0 and t/f are left to int and string). */
const BOOL_RE = /^(?:true|false|TRUE|FALSE|True|False)$/;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** What one cell looks like: a type, and for datetimes the layouts that read it. */
export interface CellClass {
  readonly type: FieldType;
  /** datetime only: the layouts (in DATETIME_LAYOUTS order) that parse the cell. */
  readonly layouts?: readonly string[];
}

/** The layouts of DATETIME_LAYOUTS that parse the text. */
export function matchingLayouts(text: string): string[] {
  const out: string[] = [];
  for (const layout of DATETIME_LAYOUTS) {
    try {
      goTimeParse(layout, text);
      out.push(layout);
    } catch {
      // not this layout
    }
  }
  return out;
}

/** Classifies one cell; undefined for an empty cell (empty after trimming white space). */
export function classifyCell(cell: string): CellClass | undefined {
  const t = goTrimSpace(cell);
  if (t === '') return undefined;
  if (INT_RE.test(t)) {
    const v = BigInt(t);
    // beyond int64 a `%d` read fails; `%f` reads it as a float
    return v >= INT64_MIN && v <= INT64_MAX ? { type: 'int' } : { type: 'float' };
  }
  if (DECIMAL2_RE.test(t)) return { type: 'decimal2' };
  if (FLOAT_RE.test(t)) return { type: 'float' };
  if (BOOL_RE.test(t)) return { type: 'bool' };
  // every layout starts with a digit; the reader trims the cell before parsing it with the layout
  const layouts = /^[0-9]/.test(t) ? matchingLayouts(t) : [];
  if (layouts.length > 0) return { type: 'datetime', layouts };
  return { type: 'string' };
}

const NUMERIC_RANK: Partial<Record<FieldType, number>> = { int: 0, decimal2: 1, float: 2 };

/** The narrowest type two cell types both fit (datetime layouts are handled by the caller). */
export function widenType(a: FieldType, b: FieldType): FieldType {
  if (a === b) return a;
  const ra = NUMERIC_RANK[a];
  const rb = NUMERIC_RANK[b];
  if (ra !== undefined && rb !== undefined) return ra > rb ? a : b;
  return 'string';
}

/** The inferred type of a column and the `csv.col_format` its reader needs. */
export interface InferredType {
  readonly type: FieldType;
  /** `%d` (int), `%f` (float, decimal2), a Go layout (datetime); absent for string and bool. */
  readonly readFormat?: string;
  /** Number of non-empty sample cells that decided the type. */
  readonly decidedBy: number;
}

/** Accumulates the cells of one column. */
export class ColumnInference {
  private type: FieldType | undefined;
  private layouts: readonly string[] = [];
  private count = 0;

  add(cell: string): void {
    if (this.type === 'string') {
      if (goTrimSpace(cell) !== '') this.count++;
      return;
    }
    const c = classifyCell(cell);
    if (!c) return;
    this.count++;
    if (this.type === undefined) {
      this.type = c.type;
      this.layouts = c.layouts ?? [];
      return;
    }
    if (this.type === 'datetime' && c.type === 'datetime') {
      const these = new Set(c.layouts);
      this.layouts = this.layouts.filter((l) => these.has(l));
      if (this.layouts.length === 0) this.type = 'string';
      return;
    }
    this.type = widenType(this.type, c.type);
  }

  result(): InferredType {
    const type = this.type ?? 'string';
    return { type, decidedBy: this.count, ...readFormatOf(type, this.layouts[0]) };
  }
}

function readFormatOf(type: FieldType, layout: string | undefined): { readFormat?: string } {
  switch (type) {
    case 'int':
      return { readFormat: '%d' };
    case 'float':
    case 'decimal2':
      return { readFormat: '%f' };
    case 'datetime':
      return { readFormat: layout ?? DATETIME_LAYOUTS[0] };
    default:
      return {};
  }
}

/** Infers the type of every column of sample records (records shorter than `columns` count as empty cells). */
export function inferColumnTypes(records: readonly (readonly string[])[], columns: number): InferredType[] {
  const acc = Array.from({ length: columns }, () => new ColumnInference());
  for (const rec of records) {
    for (let i = 0; i < columns; i++) acc[i]?.add(rec[i] ?? '');
  }
  return acc.map((a) => a.result());
}

/** The table_file `csv.format` Capillaries' generator writes for each type. */
export const WRITE_FORMATS: Readonly<Record<FieldType, string>> = {
  string: '%s',
  int: '%d',
  float: '%.3f',
  decimal2: '%s',
  datetime: '2006-01-02 15:04:05',
  bool: '%t',
};
