import type { Writable } from 'node:stream';
import zlib from 'node:zlib';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import type { AsyncBuffer, Compressors, FileMetaData, SchemaElement } from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { PlexusError, UserInputError, errorMessage } from '../errors/index.js';
import {
  DateTime,
  Decimal,
  INT64_MAX,
  INT64_MIN,
  zeroValue,
  type FieldType,
  type Value,
} from '../values/index.js';
import { urlIo, type UrlIo } from './urls.js';

/**
 * Parquet reading and writing with Capillaries' type mapping (§3.3).
 *
 * Reading: the Capillaries type of a column comes from the file schema (not from the script's col_type);
 * nulls become the type's zero value; decimals (INT32, INT64, FIXED_LEN_BYTE_ARRAY or BYTE_ARRAY with a
 * DECIMAL annotation) are read exactly with their scale; timestamps (millis, micros, nanos), DATE and INT96
 * become UTC datetimes. Rows are produced in slices of a row group, so memory follows the slice size.
 *
 * Writing: every column OPTIONAL and PLAIN-encoded; string → BYTE_ARRAY UTF8, int → INT64, float → DOUBLE,
 * bool → BOOLEAN, decimal2 → INT64 DECIMAL(18, 2) holding trunc(x·100), datetime → INT64 TIMESTAMP(MILLIS)
 * with the zero time written as null; codecs gzip (default), snappy, uncompressed.
 */

// ---------------------------------------------------------------------------------------------------
// reading

/** The decompressors available for reading (SNAPPY is built into the reader). */
export function readCompressors(): Compressors {
  const c: Compressors = {
    GZIP: (input) => new Uint8Array(zlib.gunzipSync(input)),
    BROTLI: (input) => new Uint8Array(zlib.brotliDecompressSync(input)),
  };
  const zstd = (zlib as unknown as { zstdDecompressSync?: (b: Uint8Array) => Buffer }).zstdDecompressSync;
  if (zstd) c.ZSTD = (input) => new Uint8Array(zstd(input));
  return c;
}

/** Turns a raw physical value (read with the column's annotations removed) into its Capillaries value. */
export type ParquetDecoder = (raw: unknown) => Value;

/** How a column of a file is read: its Capillaries type and how its values decode. */
export interface ParquetColumnPlan {
  readonly type: FieldType;
  /**
   * The element as the reader should see it: annotations removed, so the reader returns raw physical
   * values (numbers, bigints, booleans, bytes) that `decode` turns into Capillaries values.
   */
  readonly element: SchemaElement;
  /** Physical type the reader should decode the column chunks as, when it differs from the file's. */
  readonly physical?: 'FIXED_LEN_BYTE_ARRAY';
  /** Decodes a non-null raw value. */
  readonly decode: ParquetDecoder;
  /** Digits after the decimal point of a decimal column (0 for other columns). */
  readonly scale: number;
}

const textDecoder = new TextDecoder();

function unscaledFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  const bits = BigInt(bytes.length * 8);
  if (v >= 1n << (bits - 1n)) v -= 1n << bits;
  return v;
}

/** The unscaled integer of a raw decimal value (INT32, INT64 or big-endian two's complement bytes). */
export function unscaledOf(raw: unknown): bigint {
  if (raw instanceof Uint8Array) return unscaledFromBytes(raw);
  return typeof raw === 'bigint' ? raw : BigInt(raw as number);
}

function checkedInt(v: bigint): bigint {
  if (v < INT64_MIN || v > INT64_MAX)
    throw new PlexusError('PARQUET_INT_RANGE', `value ${v} does not fit a signed 64-bit int`);
  return v;
}

/** An integer column with an unsigned annotation (UINT_8/16/32/64 or INTEGER isSigned=false). */
export function isUnsignedParquetInt(el: SchemaElement): boolean {
  const ct = el.converted_type;
  const lt = el.logical_type;
  return (
    ct === 'UINT_8' ||
    ct === 'UINT_16' ||
    ct === 'UINT_32' ||
    ct === 'UINT_64' ||
    (lt?.type === 'INTEGER' && !lt.isSigned)
  );
}

/** Divisor from the stored unit of a timestamp column to milliseconds (the converted type wins). */
function timestampDivisor(el: SchemaElement): bigint {
  const { converted_type: ct, logical_type: lt } = el;
  if (ct === 'TIMESTAMP_MILLIS') return 1n;
  if (ct === 'TIMESTAMP_MICROS') return 1000n;
  if (lt?.type === 'TIMESTAMP') return lt.unit === 'NANOS' ? 1_000_000n : lt.unit === 'MICROS' ? 1000n : 1n;
  return 1n;
}

function intDecoder(el: SchemaElement): ParquetDecoder {
  if (isUnsignedParquetInt(el)) {
    return el.type === 'INT64'
      ? (v) => checkedInt(BigInt.asUintN(64, v as bigint))
      : (v) => BigInt((v as number) >>> 0);
  }
  return (v) => (typeof v === 'bigint' ? checkedInt(v) : BigInt(v as number));
}

/** How a column of the file maps to a Capillaries type, or why it cannot be read. */
export function planParquetColumn(el: SchemaElement): ParquetColumnPlan | string {
  const { type, converted_type: ct, logical_type: lt } = el;
  const raw: SchemaElement = { ...el, converted_type: undefined, logical_type: undefined };
  const plan = (t: FieldType, decode: ParquetDecoder, scale = 0): ParquetColumnPlan => ({
    type: t,
    element: raw,
    decode,
    scale,
  });
  const isDecimal = ct === 'DECIMAL' || lt?.type === 'DECIMAL';
  if (isDecimal) {
    const scale = lt?.type === 'DECIMAL' ? lt.scale : (el.scale ?? 0);
    switch (type) {
      case 'INT32':
      case 'INT64':
      case 'FIXED_LEN_BYTE_ARRAY':
      case 'BYTE_ARRAY':
        return plan('decimal2', (v) => new Decimal(`${unscaledOf(v).toString()}e${-scale}`), scale);
      default:
        return `DECIMAL stored as ${type} is not supported`;
    }
  }
  switch (type) {
    case 'BOOLEAN':
      return plan('bool', (v) => Boolean(v));
    case 'FLOAT':
    case 'DOUBLE':
      return plan('float', (v) => v as number);
    case 'INT96':
      // Read as 12 raw bytes and decode the nanoseconds of the day as a signed 64-bit number, as the Go
      // reader Capillaries uses does (its writer stores times before 1970 with negative nanoseconds).
      return {
        ...plan('datetime', int96ToDateTime),
        element: { ...raw, type: 'FIXED_LEN_BYTE_ARRAY', type_length: 12 },
        physical: 'FIXED_LEN_BYTE_ARRAY',
      };
    case 'INT32':
    case 'INT64': {
      if (ct === 'DATE' || lt?.type === 'DATE')
        return plan('datetime', (v) => new DateTime(Number(v) * 86_400_000));
      if (ct === 'TIMESTAMP_MILLIS' || ct === 'TIMESTAMP_MICROS' || lt?.type === 'TIMESTAMP') {
        const divisor = timestampDivisor(el);
        // BigInt division truncates toward zero, as Go's integer division and Cassandra's ms conversion do
        return plan('datetime', (v) => new DateTime(Number(BigInt(v as bigint | number) / divisor)));
      }
      if (ct === 'TIME_MILLIS' || ct === 'TIME_MICROS' || lt?.type === 'TIME')
        return 'TIME columns are not supported';
      if (ct === 'INTERVAL') return 'INTERVAL columns are not supported';
      return plan('int', intDecoder(el));
    }
    case 'BYTE_ARRAY':
    case 'FIXED_LEN_BYTE_ARRAY': {
      const stringy =
        ct === 'UTF8' ||
        ct === 'ENUM' ||
        ct === 'JSON' ||
        lt?.type === 'STRING' ||
        lt?.type === 'ENUM' ||
        lt?.type === 'JSON';
      if (type === 'BYTE_ARRAY' && (stringy || (ct === undefined && lt === undefined))) {
        return plan('string', (v) => (typeof v === 'string' ? v : textDecoder.decode(v as Uint8Array)));
      }
      return `${type}${ct ? ' ' + ct : ''}${lt ? ' ' + lt.type : ''} columns are not supported`;
    }
    default:
      return `${type ?? 'group'} columns are not supported`;
  }
}

const JULIAN_UNIX_EPOCH = 2440588n;
const NANOS_PER_DAY = 86_400_000_000_000n;

/** INT96 timestamp: 8 bytes of nanoseconds within the day, then 4 bytes of Julian day (little-endian). */
function int96ToDateTime(v: unknown): DateTime {
  const b = v as Uint8Array;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const nanos = view.getBigInt64(0, true);
  const days = BigInt(view.getInt32(8, true));
  // truncated toward zero, as Go's integer division does
  return new DateTime(Number(((days - JULIAN_UNIX_EPOCH) * NANOS_PER_DAY + nanos) / 1_000_000n));
}

/** Keeps the physical values of the statistics as they are (planned columns carry no annotations). */
const RAW_PARSERS = {
  timestampFromMilliseconds: (v: bigint): unknown => v,
  timestampFromMicroseconds: (v: bigint): unknown => v,
  timestampFromNanoseconds: (v: bigint): unknown => v,
  dateFromDays: (v: number): unknown => v,
};

/** A top-level column of a file with its plan, or why it cannot be read. */
export interface ParquetTopColumn {
  readonly name: string;
  /** The element in the file's schema. */
  readonly element: SchemaElement;
  readonly plan: ParquetColumnPlan | string;
}

/** The top-level columns of a schema, in order, each planned (nested and repeated columns are not read). */
export function parquetColumns(schema: readonly SchemaElement[]): ParquetTopColumn[] {
  return topLevelElements(schema).map(({ element: el }) => {
    let plan: ParquetColumnPlan | string;
    if (el.num_children) plan = 'nested (group) columns are not supported';
    else if (el.repetition_type === 'REPEATED') plan = 'repeated columns are not supported';
    else plan = planParquetColumn(el);
    return { name: el.name, element: el, plan };
  });
}

/** The top-level elements of a schema with their indexes (the subtrees of groups are skipped). */
function topLevelElements(schema: readonly SchemaElement[]): { element: SchemaElement; index: number }[] {
  const out: { element: SchemaElement; index: number }[] = [];
  let i = 1;
  const rootChildren = schema[0]?.num_children ?? 0;
  for (let c = 0; c < rootChildren && i < schema.length; c++) {
    const element = schema[i];
    if (!element) break;
    out.push({ element, index: i });
    i = element.num_children ? skipSubtree(schema, i) : i + 1;
  }
  return out;
}

function skipSubtree(schema: readonly SchemaElement[], i: number): number {
  let pending = 1;
  while (pending > 0 && i < schema.length) {
    pending += (schema[i]?.num_children ?? 0) - 1;
    i++;
  }
  return i;
}

/**
 * The file's metadata as the reader should see it for the planned top-level columns: their elements
 * without annotations, and INT96 column chunks decoded as 12-byte values.
 */
export function metadataForPlans(
  metadata: FileMetaData,
  plans: ReadonlyMap<string, ParquetColumnPlan>,
): FileMetaData {
  const schema = [...metadata.schema];
  for (const { element, index } of topLevelElements(schema)) {
    const p = element.num_children ? undefined : plans.get(element.name);
    if (p) schema[index] = p.element;
  }
  return {
    ...metadata,
    schema,
    row_groups: metadata.row_groups.map((rg) => ({
      ...rg,
      columns: rg.columns.map((chunk) => {
        const path = chunk.meta_data?.path_in_schema ?? [];
        const physical = path.length === 1 ? plans.get(path[0] ?? '')?.physical : undefined;
        return physical && chunk.meta_data
          ? { ...chunk, meta_data: { ...chunk.meta_data, type: physical } }
          : chunk;
      }),
    })),
  };
}

/** Raw rows [rowStart, rowEnd) of planned columns, read with metadata from `metadataForPlans`. */
export async function readPlannedRows(
  file: AsyncBuffer,
  planned: FileMetaData,
  columns: readonly string[],
  rowStart: number,
  rowEnd: number,
  compressors: Compressors = readCompressors(),
): Promise<Record<string, unknown>[]> {
  return (await parquetReadObjects({
    file,
    metadata: planned,
    columns: [...columns],
    rowStart,
    rowEnd,
    utf8: false,
    parsers: RAW_PARSERS,
    compressors,
    useOffsetIndex: true,
  })) as Record<string, unknown>[];
}

export interface ParquetColumnRequest {
  /** Reader field name (`r.<name>`). */
  readonly name: string;
  /** `parquet.col_name` in the file. */
  readonly column: string;
}

export interface ParquetReadOptions {
  /** File name or URL for error messages (default: the path). */
  readonly source?: string;
  readonly columns: readonly ParquetColumnRequest[];
  /** Rows decoded at a time (default 10,000). */
  readonly sliceRows?: number;
}

export interface ParquetFileInfo {
  readonly rows: number;
  readonly rowGroups: number;
  /** Capillaries type of each readable top-level column. */
  readonly columns: ReadonlyMap<string, FieldType>;
  /** Columns that cannot be read, with the reason. */
  readonly unsupported: ReadonlyMap<string, string>;
  readonly createdBy?: string;
}

/** A local Parquet file opened for reading, with its top-level columns planned. */
export interface OpenedParquet {
  readonly file: AsyncBuffer;
  readonly metadata: FileMetaData;
  readonly columns: readonly ParquetTopColumn[];
}

/** Opens a local Parquet file; a missing or unreadable file is a user error naming `source`. */
export async function openParquetFile(path: string, source: string): Promise<OpenedParquet> {
  let file: AsyncBuffer;
  let metadata: FileMetaData;
  try {
    file = await asyncBufferFromFile(path);
    metadata = await parquetMetadataAsync(file, { parsers: RAW_PARSERS });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new UserInputError('FILE_NOT_FOUND', `cannot read ${source}: no such file or directory`);
    throw new UserInputError(
      'PARQUET_INVALID',
      `${source}: not a readable Parquet file: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
  return { file, metadata, columns: parquetColumns(metadata.schema) };
}

/** Schema summary of a local Parquet file (types as Capillaries sees them). */
export async function parquetFileInfo(path: string, source = path): Promise<ParquetFileInfo> {
  const { metadata, columns: top } = await openParquetFile(path, source);
  const columns = new Map<string, FieldType>();
  const unsupported = new Map<string, string>();
  for (const { name, plan } of top) {
    if (typeof plan === 'string') unsupported.set(name, plan);
    else columns.set(name, plan.type);
  }
  return {
    rows: Number(metadata.num_rows),
    rowGroups: metadata.row_groups.length,
    columns,
    unsupported,
    createdBy: metadata.created_by,
  };
}

/** Streams rows (reader field name → value) of a local Parquet file. */
export async function* readParquetFile(
  path: string,
  options: ParquetReadOptions,
): AsyncGenerator<Record<string, Value>, void, undefined> {
  const source = options.source ?? path;
  const { file, metadata, columns } = await openParquetFile(path, source);
  const plans = new Map(columns.map((c) => [c.name, c.plan]));
  const missing = options.columns.filter((c) => !plans.has(c.column)).map((c) => c.column);
  if (missing.length > 0) {
    throw new UserInputError(
      'PARQUET_COLUMN',
      `${source}: no column ${missing.map((m) => JSON.stringify(m)).join(', ')} in the file (it has ${[
        ...plans.keys(),
      ]
        .map((k) => JSON.stringify(k))
        .join(', ')})`,
    );
  }
  const wanted = [...new Set(options.columns.map((c) => c.column))];
  const colPlans = new Map<string, ParquetColumnPlan>();
  for (const name of wanted) {
    const p = plans.get(name);
    if (typeof p === 'string' || p === undefined) {
      throw new UserInputError(
        'PARQUET_TYPE',
        `${source}: column ${JSON.stringify(name)}: ${p ?? 'missing'}`,
      );
    }
    colPlans.set(name, p);
  }
  const planned = metadataForPlans(metadata, colPlans);
  const slice = Math.max(1, options.sliceRows ?? 10_000);
  const compressors = readCompressors();
  let groupStart = 0;
  for (const rg of metadata.row_groups) {
    const n = Number(rg.num_rows);
    for (let s = 0; s < n; s += slice) {
      const rowStart = groupStart + s;
      const rowEnd = groupStart + Math.min(n, s + slice);
      let raw: Record<string, unknown>[];
      try {
        raw = await readPlannedRows(file, planned, wanted, rowStart, rowEnd, compressors);
      } catch (err) {
        throw new UserInputError(
          'PARQUET_INVALID',
          `${source}: cannot read rows ${rowStart}-${rowEnd - 1}: ${errorMessage(err)}`,
          {
            cause: err,
          },
        );
      }
      for (let r = 0; r < raw.length; r++) {
        const obj = raw[r] ?? {};
        const values: Record<string, Value> = {};
        for (const c of options.columns) {
          const p = colPlans.get(c.column) as ParquetColumnPlan;
          const v = obj[c.column];
          try {
            values[c.name] = v === null || v === undefined ? zeroValue(p.type) : p.decode(v);
          } catch (err) {
            throw new UserInputError(
              'PARQUET_VALUE',
              `${source}, row ${rowStart + r}, column ${JSON.stringify(c.column)}: ${errorMessage(err)}`,
              { cause: err },
            );
          }
        }
        yield values;
      }
    }
    groupStart += n;
  }
}

/**
 * Streams rows of a Parquet file at any URL: remote files are downloaded to a temporary file first
 * (Parquet needs random access) and removed afterwards.
 */
export async function* readParquetUrl(
  url: string,
  options: ParquetReadOptions,
  io: UrlIo = urlIo(),
): AsyncGenerator<Record<string, Value>, void, undefined> {
  const tmp = await io.downloadToTemp(url);
  try {
    yield* readParquetFile(tmp.path, { ...options, source: options.source ?? url });
  } finally {
    await tmp.cleanup();
  }
}

// ---------------------------------------------------------------------------------------------------
// writing

export type ParquetCodec = 'gzip' | 'snappy' | 'uncompressed';

export interface ParquetWriteColumn {
  /** `parquet.column_name` */
  readonly name: string;
  readonly type: FieldType;
}

export interface ParquetWriteOptions {
  readonly codec?: ParquetCodec;
  /** Rows per row group (default 100,000); a file with fewer rows has a single row group. */
  readonly rowGroupSize?: number;
  /** Written into the file's created_by field (default "plexus"). */
  readonly createdBy?: string;
}

function schemaElement(col: ParquetWriteColumn): SchemaElement {
  const base = { name: col.name, repetition_type: 'OPTIONAL' as const };
  switch (col.type) {
    case 'string':
      return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
    case 'int':
      return { ...base, type: 'INT64' };
    case 'float':
      return { ...base, type: 'DOUBLE' };
    case 'bool':
      return { ...base, type: 'BOOLEAN' };
    case 'decimal2':
      return {
        ...base,
        type: 'INT64',
        converted_type: 'DECIMAL',
        scale: 2,
        precision: 18,
        logical_type: { type: 'DECIMAL', scale: 2, precision: 18 },
      };
    case 'datetime':
      return {
        ...base,
        type: 'INT64',
        converted_type: 'TIMESTAMP_MILLIS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
      };
  }
}

const CODECS = { gzip: 'GZIP', snappy: 'SNAPPY', uncompressed: 'UNCOMPRESSED' } as const;

/** The physical value written for a value of a column (null for a zero datetime). */
function physical(v: Value, col: ParquetWriteColumn): unknown {
  switch (col.type) {
    case 'string':
      if (typeof v === 'string') return v;
      break;
    case 'int':
      if (typeof v === 'bigint') return v;
      break;
    case 'float':
      if (typeof v === 'number') return v;
      break;
    case 'bool':
      if (typeof v === 'boolean') return v;
      break;
    case 'decimal2':
      if (v instanceof Decimal) {
        const unscaled = BigInt(v.times(100).trunc().toFixed());
        if (unscaled < INT64_MIN || unscaled > INT64_MAX) {
          throw new PlexusError(
            'PARQUET_DECIMAL_RANGE',
            `column ${col.name}: decimal ${v.toFixed()} does not fit INT64 DECIMAL(18,2)`,
          );
        }
        return unscaled;
      }
      break;
    case 'datetime':
      if (v instanceof DateTime) return v.isZero() ? null : BigInt(Math.trunc(v.epochMs));
      break;
  }
  throw new PlexusError(
    'PARQUET_VALUE_TYPE',
    `column ${col.name} is ${col.type} but got a ${typeof v} value`,
  );
}

/** Writes rows of values (in column order) as a Parquet file to a stream. */
export class ParquetTableWriter {
  private readonly writer: ParquetWriter;
  private readonly bytes: ByteWriter;
  private readonly rowGroupSize: number;
  private buffer: unknown[][];
  private buffered = 0;
  private rows = 0;
  private finished = false;

  constructor(
    private readonly stream: Writable,
    private readonly columns: readonly ParquetWriteColumn[],
    options: ParquetWriteOptions = {},
  ) {
    if (columns.length === 0)
      throw new UserInputError('PARQUET_COLUMNS', 'a Parquet file needs at least one column');
    const names = new Set<string>();
    for (const c of columns) {
      if (names.has(c.name))
        throw new UserInputError(
          'PARQUET_COLUMNS',
          `Parquet column ${JSON.stringify(c.name)} is defined twice`,
        );
      names.add(c.name);
    }
    const codec = options.codec ?? 'gzip';
    if (!(codec in CODECS)) {
      throw new UserInputError(
        'PARQUET_CODEC',
        `unknown Parquet codec ${JSON.stringify(codec)} (use gzip, snappy or uncompressed)`,
      );
    }
    this.rowGroupSize = Math.max(1, options.rowGroupSize ?? 100_000);
    this.buffer = columns.map(() => []);
    this.bytes = new ByteWriter();
    this.writer = new ParquetWriter({
      writer: this.bytes,
      schema: [{ name: 'root', num_children: columns.length }, ...columns.map(schemaElement)],
      codec: CODECS[codec],
      compressors: { GZIP: (input: Uint8Array) => new Uint8Array(zlib.gzipSync(input)) },
      createdBy: options.createdBy ?? 'plexus',
    });
  }

  get rowsWritten(): number {
    return this.rows;
  }

  async writeRows(rows: readonly (readonly Value[])[]): Promise<void> {
    if (this.finished) throw new PlexusError('PARQUET_FINISHED', 'the Parquet file is already finished');
    for (const r of rows) {
      if (r.length !== this.columns.length) {
        throw new PlexusError(
          'PARQUET_ROW_WIDTH',
          `a row has ${r.length} values for ${this.columns.length} columns`,
        );
      }
      for (let i = 0; i < r.length; i++) {
        (this.buffer[i] as unknown[]).push(physical(r[i] as Value, this.columns[i] as ParquetWriteColumn));
      }
      this.buffered++;
      this.rows++;
      if (this.buffered >= this.rowGroupSize) await this.flushGroup();
    }
  }

  async finish(): Promise<void> {
    if (this.finished) return;
    if (this.buffered > 0) await this.flushGroup();
    this.finished = true;
    await this.writer.finish();
    await this.drainBytes();
  }

  private async flushGroup(): Promise<void> {
    const columnData = this.columns.map((c, i) => ({
      name: c.name,
      data: this.buffer[i] as unknown[] as never[],
      encoding: 'PLAIN' as const,
    }));
    this.buffer = this.columns.map(() => []);
    const n = this.buffered;
    this.buffered = 0;
    await this.writer.write({ columnData, rowGroupSize: n });
    await this.drainBytes();
  }

  /** Moves the encoded bytes to the stream and resets the in-memory buffer. */
  private async drainBytes(): Promise<void> {
    const chunk = Buffer.from(this.bytes.getBytes());
    this.bytes.index = 0;
    if (chunk.length === 0) return;
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          this.stream.off('error', onError);
          resolve();
        };
        const onError = (err: Error): void => {
          this.stream.off('drain', onDrain);
          reject(err);
        };
        this.stream.once('drain', onDrain);
        this.stream.once('error', onError);
      });
    }
  }
}
