import zlib from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import type { AsyncBuffer, CompressionCodec, FileMetaData, SchemaElement } from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { PlexusError, UserInputError, errorMessage } from '../errors/index.js';
import {
  DateTime,
  Decimal,
  formatGoFloat,
  goTimeFormat,
  valuesEqual,
  type FieldType,
  type Value,
} from '../values/index.js';
import {
  isUnsignedParquetInt,
  metadataForPlans,
  openParquetFile,
  readCompressors,
  readPlannedRows,
  unscaledOf,
  type ParquetColumnPlan,
} from './parquet.js';
import { urlIo, type UrlIo } from './urls.js';

/**
 * Inspection of Parquet files (`plexus parquet cat|diff|sort`): the columns and rows of a file as
 * Capillaries sees them, with missing values kept as `null` (the engine's reader turns them into zero
 * values). Each column is read with the engine reader's plan (`planParquetColumn`): the same Capillaries
 * type and the same decoding of the physical values, so a non-null cell equals what the engine reads.
 * Columns the engine cannot read are kept as raw text.
 */

/** A cell: a typed value, or null when the value is missing. */
export type ParquetCell = Value | null;

export interface InspectedColumn {
  readonly name: string;
  /** The Capillaries type; undefined when the engine cannot read the column (cells are then raw text). */
  readonly type: FieldType | undefined;
  /** Why the engine cannot read the column. */
  readonly unsupported: string | undefined;
  /** The Parquet physical and logical type, e.g. `INT64 DECIMAL(18,2)` or `BYTE_ARRAY STRING`. */
  readonly parquetType: string;
  /** Digits after the decimal point of a decimal column (0 for other columns). */
  readonly scale: number;
}

export interface InspectOptions {
  /** Rows decoded at a time (default 10,000). */
  readonly sliceRows?: number;
  /**
   * Called once per column that cannot be read (its cells are then null). Without it, a column that
   * cannot be read is an error.
   */
  readonly onWarning?: (message: string) => void;
}

// ---------------------------------------------------------------------------------------------------
// decoding

const textDecoder = new TextDecoder();
/** The physical value the writer takes for a raw value read without annotations (for `sort`). */
function writableFor(el: SchemaElement, plan: ParquetColumnPlan): (raw: unknown) => unknown {
  if (plan.type === 'decimal2') return unscaledOf;
  if (el.converted_type === 'UINT_32' || (el.logical_type?.type === 'INTEGER' && el.type === 'INT32'))
    return isUnsignedParquetInt(el) ? (raw) => (raw as number) >>> 0 : (raw) => raw;
  if (el.converted_type === 'JSON' || el.logical_type?.type === 'JSON') {
    // the writer serialises JSON columns itself
    return (raw) => JSON.parse(textDecoder.decode(raw as Uint8Array)) as unknown;
  }
  return (raw) => raw;
}

function describeParquetType(el: SchemaElement): string {
  const parts: string[] = [el.type ?? 'group'];
  if (el.type === 'FIXED_LEN_BYTE_ARRAY') parts[0] = `FIXED_LEN_BYTE_ARRAY(${el.type_length ?? 0})`;
  const lt = el.logical_type;
  if (lt) {
    switch (lt.type) {
      case 'DECIMAL':
        parts.push(`DECIMAL(${lt.precision},${lt.scale})`);
        break;
      case 'TIMESTAMP':
        parts.push(`TIMESTAMP(${lt.unit},${lt.isAdjustedToUTC ? 'UTC' : 'local'})`);
        break;
      case 'TIME':
        parts.push(`TIME(${lt.unit},${lt.isAdjustedToUTC ? 'UTC' : 'local'})`);
        break;
      case 'INTEGER':
        parts.push(`INTEGER(${lt.bitWidth},${lt.isSigned ? 'signed' : 'unsigned'})`);
        break;
      default:
        parts.push(lt.type);
    }
  } else if (el.converted_type === 'DECIMAL') {
    parts.push(`DECIMAL(${el.precision ?? 0},${el.scale ?? 0})`);
  } else if (el.converted_type) {
    parts.push(el.converted_type);
  }
  parts.push(el.repetition_type ?? 'REQUIRED');
  return parts.join(' ');
}

/** Formats a raw value of a column the engine cannot read. */
function rawText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return x.toString();
    if (x instanceof Uint8Array) return Buffer.from(x).toString('hex');
    return x;
  });
}

// ---------------------------------------------------------------------------------------------------
// reading

interface ColumnPlan {
  readonly column: InspectedColumn;
  /** The element in the file's schema. */
  readonly original: SchemaElement;
  /** How the engine reads the column; undefined when it cannot (cells are then raw text). */
  readonly plan: ParquetColumnPlan | undefined;
}

/** A Parquet file opened for inspection; `close()` removes a downloaded copy. */
export class InspectedParquet {
  private constructor(
    /** The file name or URL as given (for messages). */
    readonly source: string,
    readonly rows: number,
    readonly rowGroupSizes: readonly number[],
    private readonly file: AsyncBuffer,
    private readonly metadata: FileMetaData,
    private readonly plans: readonly ColumnPlan[],
    private readonly cleanup: () => Promise<void>,
  ) {}

  /** Opens a local file or URL (remote files are downloaded to a temporary file first). */
  static async open(url: string, io: UrlIo = urlIo()): Promise<InspectedParquet> {
    const tmp = await io.downloadToTemp(url);
    try {
      const { file, metadata, columns } = await openParquetFile(tmp.path, url);
      const plans = columns.map(({ element, plan }): ColumnPlan => ({
        original: element,
        plan: typeof plan === 'string' ? undefined : plan,
        column: {
          name: element.name,
          type: typeof plan === 'string' ? undefined : plan.type,
          unsupported: typeof plan === 'string' ? plan : undefined,
          parquetType: describeParquetType(element),
          scale: typeof plan === 'string' ? 0 : plan.scale,
        },
      }));
      return new InspectedParquet(
        url,
        Number(metadata.num_rows),
        metadata.row_groups.map((rg) => Number(rg.num_rows)),
        file,
        metadata,
        plans,
        () => tmp.cleanup(),
      );
    } catch (err) {
      await tmp.cleanup();
      throw err;
    }
  }

  get columns(): readonly InspectedColumn[] {
    return this.plans.map((p) => p.column);
  }

  get createdBy(): string | undefined {
    return this.metadata.created_by;
  }

  async close(): Promise<void> {
    await this.cleanup();
  }

  /**
   * Streams the rows in file order, a slice of a row group at a time (memory follows the slice size).
   * Each row is its cells in column order.
   */
  async *rowsOf(options: InspectOptions = {}): AsyncGenerator<ParquetCell[], void, undefined> {
    for await (const { cells } of this.rawRows(options)) yield cells;
  }

  /** Rows with the physical values the writer takes back (every column must have a Capillaries type). */
  async *rawRows(
    options: InspectOptions = {},
  ): AsyncGenerator<{ cells: ParquetCell[]; physical: unknown[] }, void, undefined> {
    const typed = this.plans.filter((p) => p.plan !== undefined);
    const rawOnly = this.plans.filter((p) => p.plan === undefined);
    const unreadable = new Set<string>();
    const planned = metadataForPlans(
      this.metadata,
      new Map(typed.map((p) => [p.column.name, p.plan as ParquetColumnPlan])),
    );
    const slice = Math.max(1, options.sliceRows ?? 10_000);
    const compressors = readCompressors();
    let groupStart = 0;
    for (const n of this.rowGroupSizes) {
      for (let s = 0; s < n; s += slice) {
        const rowStart = groupStart + s;
        const rowEnd = groupStart + Math.min(n, s + slice);
        const active = typed.filter((p) => !unreadable.has(p.column.name));
        const readTyped = (cols: readonly ColumnPlan[]): Promise<Record<string, unknown>[]> =>
          readPlannedRows(
            this.file,
            planned,
            cols.map((p) => p.column.name),
            rowStart,
            rowEnd,
            compressors,
          );
        let typedRows: Record<string, unknown>[] = [];
        if (active.length > 0) {
          try {
            typedRows = await readTyped(active);
          } catch (err) {
            if (!options.onWarning) {
              throw new UserInputError(
                'PARQUET_INVALID',
                `${this.source}: cannot read rows ${rowStart}-${rowEnd - 1}: ${errorMessage(err)}`,
                { cause: err },
              );
            }
            // find the columns that cannot be read; the others are still shown
            typedRows = Array.from({ length: rowEnd - rowStart }, () => ({}));
            for (const p of active) {
              const name = p.column.name;
              try {
                const objs = await readTyped([p]);
                objs.forEach((o, r) => {
                  const target = typedRows[r];
                  if (target) target[name] = o[name];
                });
              } catch (colErr) {
                unreadable.add(name);
                options.onWarning(
                  `${this.source}: column ${JSON.stringify(name)} cannot be read from row ${rowStart} on (${errorMessage(colErr)}); its cells are left empty`,
                );
              }
            }
          }
        }
        const rawColumns = new Map<string, unknown[]>();
        for (const p of rawOnly) {
          const name = p.column.name;
          if (unreadable.has(name)) continue;
          try {
            const objs = (await parquetReadObjects({
              file: this.file,
              metadata: this.metadata,
              columns: [name],
              rowStart,
              rowEnd,
              compressors,
            })) as Record<string, unknown>[];
            rawColumns.set(
              name,
              objs.map((o) => o[name]),
            );
          } catch (err) {
            if (!options.onWarning) {
              throw new UserInputError(
                'PARQUET_INVALID',
                `${this.source}: column ${JSON.stringify(name)}: cannot read rows ${rowStart}-${rowEnd - 1}: ${errorMessage(err)}`,
                { cause: err },
              );
            }
            unreadable.add(name);
            options.onWarning(
              `${this.source}: column ${JSON.stringify(name)} cannot be read (${errorMessage(err)}); its cells are left empty`,
            );
          }
        }
        for (let r = 0; r < rowEnd - rowStart; r++) {
          const obj = typedRows[r] ?? {};
          const cells: ParquetCell[] = [];
          const physical: unknown[] = [];
          for (const p of this.plans) {
            const name = p.column.name;
            if (p.plan === undefined) {
              const v = rawColumns.get(name)?.[r];
              cells.push(v === null || v === undefined ? null : rawText(v));
              physical.push(v ?? null);
              continue;
            }
            const v = obj[name];
            if (v === null || v === undefined) {
              cells.push(null);
              physical.push(null);
              continue;
            }
            try {
              cells.push(p.plan.decode(v));
            } catch (err) {
              throw new UserInputError(
                'PARQUET_VALUE',
                `${this.source}, row ${rowStart + r}, column ${JSON.stringify(name)}: ${errorMessage(err)}`,
                { cause: err },
              );
            }
            physical.push(v);
          }
          yield { cells, physical };
        }
      }
      groupStart += n;
    }
  }

  /**
   * Writes rows of physical values (from `rawRows`) as a Parquet file with this file's schema, codec
   * (when the writer has it; SNAPPY otherwise), row group size and key/value metadata.
   */
  encode(rows: readonly (readonly unknown[])[]): Uint8Array {
    for (const p of this.plans) {
      if (p.plan === undefined) {
        throw new UserInputError(
          'PARQUET_TYPE',
          `${this.source}: column ${JSON.stringify(p.column.name)}: ${p.column.unsupported ?? 'unsupported'}; the file cannot be rewritten`,
        );
      }
      if (p.original.type === 'INT96') {
        throw new UserInputError(
          'PARQUET_TYPE',
          `${this.source}: column ${JSON.stringify(p.column.name)}: INT96 timestamps cannot be written; the file cannot be rewritten`,
        );
      }
    }
    const firstCodec = this.metadata.row_groups[0]?.columns[0]?.meta_data?.codec;
    const compressors = writeCompressors();
    const codec: CompressionCodec =
      firstCodec === 'UNCOMPRESSED' || firstCodec === 'SNAPPY' || (firstCodec && firstCodec in compressors)
        ? firstCodec
        : 'SNAPPY';
    const bytes = new ByteWriter();
    const writer = new ParquetWriter({
      writer: bytes,
      schema: [...this.metadata.schema],
      codec,
      compressors,
      kvMetadata: this.metadata.key_value_metadata,
      createdBy: this.metadata.created_by ?? 'plexus',
    });
    const groupSize = Math.max(1, this.rowGroupSizes[0] ?? rows.length);
    for (let start = 0; start < rows.length; start += groupSize) {
      const part = rows.slice(start, start + groupSize);
      const columnData = this.plans.map((p, i) => {
        const toWritable = writableFor(p.original, p.plan as ParquetColumnPlan);
        return {
          name: p.column.name,
          data: part.map((r) => {
            const v = r[i];
            return v === null || v === undefined ? null : toWritable(v);
          }) as never[],
        };
      });
      try {
        writer.write({ columnData, rowGroupSize: part.length });
      } catch (err) {
        throw new PlexusError(
          'PARQUET_WRITE',
          `${this.source}: cannot encode the rows: ${errorMessage(err)}`,
          {
            cause: err,
          },
        );
      }
    }
    writer.finish();
    return bytes.getBytes();
  }
}

type WriteCompressors = { [K in CompressionCodec]?: (input: Uint8Array) => Uint8Array };

function writeCompressors(): WriteCompressors {
  const c: WriteCompressors = {
    GZIP: (input) => new Uint8Array(zlib.gzipSync(input)),
    BROTLI: (input) => new Uint8Array(zlib.brotliCompressSync(input)),
  };
  const zstd = (zlib as unknown as { zstdCompressSync?: (b: Uint8Array) => Buffer }).zstdCompressSync;
  if (zstd) c.ZSTD = (input) => new Uint8Array(zstd(input));
  return c;
}

// ---------------------------------------------------------------------------------------------------
// formatting and comparison

const RFC3339_MILLIS = '2006-01-02T15:04:05.000Z07:00';

/**
 * Text of a cell as `cat` prints it: int as is, float in Go's shortest `%v` form, decimal with the
 * column's scale, datetime as RFC 3339 with milliseconds in UTC, bool true/false, string as is, raw
 * columns as text, missing as the empty string.
 */
export function formatCell(v: ParquetCell, column: Pick<InspectedColumn, 'scale'>): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return formatGoFloat(v, 'g', -1);
  if (v instanceof Decimal) return v.toFixed(column.scale);
  return goTimeFormat(v.toUTC(), RFC3339_MILLIS);
}

/** A cell for a difference report: strings quoted, missing as `null`. */
export function describeCell(v: ParquetCell, column: Pick<InspectedColumn, 'scale'>): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  return formatCell(v, column);
}

/** RFC 4180 quoting: a field with a comma, a double quote or a line break is quoted, quotes doubled. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Typed equality: decimals by value, datetimes by instant, floats exactly (NaN equals NaN), null == null. */
export function cellsEqual(a: ParquetCell, b: ParquetCell): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b));
  return valuesEqual(a, b);
}

/** UTF-16 code unit → a key that orders like the code point (so strings order like their UTF-8 bytes). */
function codePointKey(u: number): number {
  if (u >= 0xd800 && u <= 0xdfff) return u + 0x2000;
  return u >= 0xe000 ? u - 0x800 : u;
}

function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointKey(x) - codePointKey(y);
  }
  return a.length - b.length;
}

/**
 * Typed order of two cells of one column: null first, numbers by value (NaN after every number),
 * strings by code point (UTF-8 byte order), false before true, datetimes by instant.
 */
export function compareCells(a: ParquetCell, b: ParquetCell): number {
  if (a === null || b === null) return a === null ? (b === null ? 0 : -1) : 1;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number(Number.isNaN(a)) - Number(Number.isNaN(b));
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (a instanceof Decimal && b instanceof Decimal) return a.cmp(b);
  if (a instanceof DateTime && b instanceof DateTime) return Math.sign(a.epochMs - b.epochMs);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  throw new PlexusError('PARQUET_COMPARE', 'cannot compare values of different types');
}

export interface SortKey {
  /** Index of the column in the file. */
  readonly index: number;
  readonly name: string;
  readonly desc: boolean;
}

/**
 * Parses `col,col(desc)` (the `top.order` form: `(asc)` is the default) against the file's columns;
 * an unknown or unsortable column is an error naming it.
 */
export function parseSortKeys(spec: string, columns: readonly InspectedColumn[], source: string): SortKey[] {
  const parts = spec.split(',').map((s) => s.trim());
  if (spec.trim() === '' || parts.some((p) => p === '')) {
    throw new UserInputError('SORT_ORDER', `sort order ${JSON.stringify(spec)}: expected col,col(desc),...`);
  }
  return parts.map((part) => {
    const m = /^(.*?)\s*(?:\(\s*(asc|desc)\s*\))?$/i.exec(part);
    const name = m?.[1] ?? part;
    const dir = (m?.[2] ?? 'asc').toLowerCase();
    const index = columns.findIndex((c) => c.name === name);
    if (index < 0 || name === '') {
      throw new UserInputError(
        'SORT_ORDER',
        `${source}: no column ${JSON.stringify(name)} to sort by (it has ${columns
          .map((c) => JSON.stringify(c.name))
          .join(', ')})`,
      );
    }
    return { index, name, desc: dir === 'desc' };
  });
}

/** Compares two rows by the sort keys (a missing value sorts before any value, ascending or descending). */
export function compareRows(
  a: readonly ParquetCell[],
  b: readonly ParquetCell[],
  keys: readonly SortKey[],
): number {
  for (const k of keys) {
    const x = a[k.index] ?? null;
    const y = b[k.index] ?? null;
    // nulls come first in both directions
    if (x === null || y === null) {
      if (x !== y) return x === null ? -1 : 1;
      continue;
    }
    const c = compareCells(x, y);
    if (c !== 0) return k.desc ? -c : c;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------------
// diff

export interface DiffOptions {
  /** Also compare the Parquet physical/logical types of the columns. */
  readonly identicalSchemas?: boolean;
  /** Differences printed at most (default 20); all are counted. */
  readonly maxShown?: number;
}

export interface DiffResult {
  readonly equal: boolean;
  /** The differences to show, one line each, and the counts when they differ. */
  readonly lines: readonly string[];
  /** All differences found (schema, row count and cells). */
  readonly differences: number;
}

function columnLabel(c: InspectedColumn): string {
  return `${JSON.stringify(c.name)} (${c.type ?? 'unsupported'})`;
}

/**
 * Compares two files: column names in order and their Capillaries types (and with `identicalSchemas`
 * their Parquet types), then, when the columns match, the rows in order with `cellsEqual`. Row numbers
 * count from 0.
 */
export async function diffParquet(
  left: InspectedParquet,
  right: InspectedParquet,
  options: DiffOptions = {},
): Promise<DiffResult> {
  const maxShown = options.maxShown ?? 20;
  const lines: string[] = [];
  let differences = 0;
  const report = (line: string): void => {
    differences++;
    if (differences <= maxShown) lines.push(line);
  };
  const lc = left.columns;
  const rc = right.columns;
  if (lc.length !== rc.length) report(`column count: left ${lc.length} right ${rc.length}`);
  for (let i = 0; i < Math.max(lc.length, rc.length); i++) {
    const l = lc[i];
    const r = rc[i];
    if (!l || !r) {
      report(`column ${i}: left ${l ? columnLabel(l) : 'none'} right ${r ? columnLabel(r) : 'none'}`);
    } else if (l.name !== r.name || l.type !== r.type) {
      report(`column ${i}: left ${columnLabel(l)} right ${columnLabel(r)}`);
    } else if (options.identicalSchemas && l.parquetType !== r.parquetType) {
      report(`column ${i} ${JSON.stringify(l.name)}: left ${l.parquetType} right ${r.parquetType}`);
    }
  }
  const schemaDiffers = differences > 0;
  if (left.rows !== right.rows) report(`row count: left ${left.rows} right ${right.rows}`);
  if (!schemaDiffers) {
    const li = left.rowsOf();
    const ri = right.rowsOf();
    try {
      for (let row = 0; ; row++) {
        const [a, b] = await Promise.all([li.next(), ri.next()]);
        if (a.done || b.done) break;
        for (let c = 0; c < lc.length; c++) {
          const x = a.value[c] ?? null;
          const y = b.value[c] ?? null;
          if (!cellsEqual(x, y)) {
            const col = lc[c] as InspectedColumn;
            const rcol = rc[c] as InspectedColumn;
            report(
              `row ${row}, column ${col.name}: left ${describeCell(x, col)} right ${describeCell(y, rcol)}`,
            );
          }
        }
      }
    } finally {
      await Promise.all([li.return(undefined), ri.return(undefined)]);
    }
  } else {
    lines.push('rows not compared: the columns differ');
  }
  if (differences > maxShown) lines.push(`... and ${differences - maxShown} more difference(s)`);
  return { equal: differences === 0, lines, differences };
}
