import { PlexusError, UserInputError, errorMessage } from '../errors/index.js';
import type { Value } from '../values/index.js';
import { compileCellParser, type CellColumn, type CellParser } from './cells.js';
import { GoCsvParser, type CsvRecord } from './csv-reader.js';

/**
 * Typed rows of a CSV/TSV file read the way Capillaries' file_table reader reads them: columns addressed by
 * index (`csv.col_idx`) or by header text (`csv.col_hdr`, resolved from the record at `hdr_line_idx`);
 * records before `first_data_line_idx` are skipped; each cell is converted by its column's type and format.
 */

export interface CsvColumnDef extends CellColumn {
  /** `csv.col_idx` (0-based); used when no column of the file has a header name. Default 0. */
  readonly idx?: number;
  /** `csv.col_hdr`: exact header text. */
  readonly header?: string;
}

export interface CsvTableOptions {
  /** File name or URL, used in every error message. */
  readonly source: string;
  readonly separator?: string;
  /** `csv.hdr_line_idx` (record index of the header; header mode only). Default 0. */
  readonly hdrLineIdx?: number;
  /** `csv.first_data_line_idx`. Default 0. */
  readonly firstDataLineIdx?: number;
  readonly columns: readonly CsvColumnDef[];
}

export interface CsvRow {
  /** Record index (from 0, blank lines not counted). */
  readonly index: number;
  /** 1-based physical line where the record starts. */
  readonly line: number;
  readonly values: Record<string, Value>;
}

interface Compiled {
  readonly col: CsvColumnDef;
  readonly parse: CellParser;
  idx: number;
}

/** Checks the options and returns a converter from raw records to typed rows. */
export class CsvTableReader {
  private readonly source: string;
  private readonly columns: Compiled[];
  private readonly headerMode: boolean;
  private readonly hdrLineIdx: number;
  private readonly firstDataLineIdx: number;
  private resolved: boolean;

  constructor(options: CsvTableOptions) {
    this.source = options.source;
    if (options.columns.length === 0) {
      throw new UserInputError('CSV_COLUMN', `${this.source}: no columns to read`);
    }
    this.headerMode = options.columns.some((c) => c.header !== undefined && c.header !== null);
    this.hdrLineIdx = options.hdrLineIdx ?? 0;
    this.firstDataLineIdx = options.firstDataLineIdx ?? 0;
    this.columns = options.columns.map((col) => {
      if (this.headerMode && (col.header === undefined || col.header === null)) {
        throw new UserInputError(
          'CSV_COLUMN',
          `${this.source}: column ${col.name} has no header name while other columns are addressed by header`,
        );
      }
      const idx = col.idx ?? 0;
      if (!this.headerMode && (!Number.isInteger(idx) || idx < 0)) {
        throw new UserInputError(
          'CSV_COLUMN',
          `${this.source}: column ${col.name}: index ${idx} is not valid`,
        );
      }
      return { col, parse: compileCellParser(col, this.source), idx };
    });
    this.resolved = !this.headerMode;
  }

  /** The typed row of a record, or undefined for header and skipped records. */
  convert(rec: CsvRecord): CsvRow | undefined {
    if (this.headerMode && rec.index === this.hdrLineIdx) {
      this.resolveHeader(rec);
      return undefined;
    }
    if (rec.index < this.firstDataLineIdx) return undefined;
    if (!this.resolved) {
      throw new UserInputError(
        'CSV_HEADER',
        `${this.source}, line ${rec.line}: data record ${rec.index} comes before the header record ${this.hdrLineIdx}`,
      );
    }
    const values: Record<string, Value> = {};
    for (const c of this.columns) {
      const text = rec.fields[c.idx];
      if (text === undefined) {
        throw new UserInputError(
          'CSV_CELL',
          `${this.source}, line ${rec.line}, column ${c.col.name}: column index ${c.idx} is beyond the ${rec.fields.length} fields of the record`,
        );
      }
      try {
        values[c.col.name] = c.parse(text);
      } catch (err) {
        if (err instanceof PlexusError && !(err instanceof UserInputError)) throw err;
        throw new UserInputError(
          'CSV_CELL',
          `${this.source}, line ${rec.line}, column ${c.col.name}: cannot read ${JSON.stringify(text)} as ${c.col.type}: ${errorMessage(err)}`,
          { cause: err },
        );
      }
    }
    return { index: rec.index, line: rec.line, values };
  }

  /** Called at the end of the input: a header that never came is an error. */
  finish(): void {
    if (!this.resolved) {
      throw new UserInputError(
        'CSV_HEADER',
        `${this.source}: the header record ${this.hdrLineIdx} was not found (the file has fewer records)`,
      );
    }
  }

  private resolveHeader(rec: CsvRecord): void {
    const missing: string[] = [];
    for (const c of this.columns) {
      const i = rec.fields.indexOf(c.col.header ?? '');
      if (i < 0) missing.push(`${c.col.name} (header ${JSON.stringify(c.col.header)})`);
      else c.idx = i;
    }
    if (missing.length > 0) {
      throw new UserInputError(
        'CSV_HEADER',
        `${this.source}, line ${rec.line}: header record ${rec.index} has no column for ${missing.join(', ')}`,
      );
    }
    this.resolved = true;
  }
}

/** Streams the typed rows of a CSV/TSV byte stream. */
export async function* readCsvTable(
  input: AsyncIterable<Uint8Array | string>,
  options: CsvTableOptions,
): AsyncGenerator<CsvRow, void, undefined> {
  const table = new CsvTableReader(options);
  const parser = new GoCsvParser({ separator: options.separator, source: options.source });
  for await (const chunk of input) {
    for (const rec of parser.push(chunk)) {
      const row = table.convert(rec);
      if (row) yield row;
    }
  }
  for (const rec of parser.end()) {
    const row = table.convert(rec);
    if (row) yield row;
  }
  table.finish();
}
