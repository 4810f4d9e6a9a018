import type { Logger } from '../obs/index.js';
import type { Script, ScriptNode } from '../script/index.js';
import type { Store } from '../store/index.js';
import type { FieldType, Value } from '../values/index.js';

/** One batch of one node of one run, as described by a batch message. */
export interface BatchSpec {
  readonly runId: number;
  readonly batchIdx: number;
  readonly batchesTotal: number;
  /** Inclusive token range (table readers); for file readers first = last = batch index. */
  readonly firstToken: bigint;
  readonly lastToken: bigint;
}

/** A CSV record: `index` counts records from 0 (header included, blank lines not counted), `line` is 1-based. */
export interface FileRecord {
  readonly index: number;
  readonly line: number;
  readonly fields: readonly string[];
}

/** A row of a Parquet file by reader field name (null or absent = missing). */
export type ParquetRow = Readonly<Record<string, Value | null>>;

/** A Parquet column to read: reader field name and the column's name in the file. */
export interface ParquetColumn {
  readonly name: string;
  readonly column: string;
}

/** How a CSV cell is turned into a value (reader field name, col_type, col_format, col_default_value). */
export interface CellSpec {
  readonly name: string;
  readonly type: FieldType;
  readonly format?: string;
  readonly defaultValue?: string;
}

/** Column of an output file, in order. */
export interface OutputColumn {
  readonly name: string;
  readonly type: FieldType;
  readonly csvHeader?: string;
  readonly csvFormat?: string;
  readonly parquetColumnName?: string;
}

/** A writer of one output file; nothing is visible at the URL before commit(). */
export interface RowFileWriter {
  write(values: readonly Value[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export type OutputFormat =
  | { readonly kind: 'csv'; readonly separator: string }
  | { readonly kind: 'parquet'; readonly codec: 'gzip' | 'snappy' | 'uncompressed' };

/**
 * The file I/O the engine needs. The runtime wires it to src/io; unit tests may pass fakes. Every error
 * thrown here already names the URL (and line/column where it applies).
 */
export interface EngineIo {
  readText(url: string): Promise<string>;
  /** CSV/TSV records with Go encoding/csv semantics (first byte of the separator is the delimiter). */
  readCsv(url: string, separator: string): AsyncIterable<FileRecord>;
  /**
   * The parser of one column's cells (checked once: format allowed, default parseable; errors name
   * `where`). The parser throws a message about the text only; the caller adds file, line and column.
   */
  cellParser(spec: CellSpec, where: string): (text: string) => Value;
  /** Parquet rows with the requested columns; types come from the file schema. */
  readParquet(url: string, columns: readonly ParquetColumn[]): AsyncIterable<ParquetRow>;
  openFileWriter(url: string, format: OutputFormat, columns: readonly OutputColumn[]): Promise<RowFileWriter>;
}

/** Settings of the py_calc processor (custom_processors.py_calc). */
export interface PythonSettings {
  readonly interpreterPath: string;
  readonly interpreterParams: readonly string[];
  /** Wall-clock limit for one rowset program; 0 = none. */
  readonly timeoutMs: number;
}

export const DEFAULT_PYTHON: PythonSettings = {
  interpreterPath: 'python3',
  interpreterParams: ['-u', '-'],
  timeoutMs: 0,
};

/** Everything one batch needs. */
export interface BatchContext {
  readonly store: Store;
  readonly ks: string;
  readonly script: Script;
  readonly node: ScriptNode;
  readonly batch: BatchSpec;
  /** Run id whose table the reader reads (from the dependency check). */
  readonly readerRunId?: number;
  /** Run id whose index/table the lookup reads. */
  readonly lookupRunId?: number;
  readonly io: EngineIo;
  readonly python?: PythonSettings;
  /** True when an earlier attempt of this batch may have written rows: they are cleaned up afterwards. */
  readonly rerun?: boolean;
  readonly logger?: Logger;
  /** Called now and then with the rows read and written so far. */
  readonly onProgress?: (p: BatchProgress) => void;
}

export interface BatchProgress {
  readonly rowsIn: number;
  readonly rowsOut: number;
}

export interface BatchResult {
  readonly rowsIn: number;
  readonly rowsOut: number;
  /** Output files committed by this batch (table_file). */
  readonly filesWritten: readonly string[];
  /** Human-readable statistics, stored as the batch's success comment. */
  readonly comment: string;
}

/** Values of one row by field name. */
export type Row = Record<string, Value>;
