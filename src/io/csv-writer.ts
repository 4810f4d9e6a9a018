import type { Writable } from 'node:stream';
import { PlexusError, UserInputError } from '../errors/index.js';
import {
  DateTime,
  Decimal,
  decimalToFixed,
  goSprintf,
  goTimeFormat,
  type FieldType,
  type Value,
} from '../values/index.js';

/**
 * CSV/TSV output exactly as Capillaries' table_file writer produces it (§3.2): the header is the column
 * headers joined by the separator and ends with `\r\n`; data lines end with `\n`; values are formatted
 * with Go's Sprintf and the column's format (decimal2: the value rounded to 2 places as text, then the
 * format; datetime: the format is a Go time layout); a header or value containing `,` is wrapped in
 * double quotes (whatever the separator) and nothing is escaped.
 */

export interface CsvWriteColumn {
  readonly name: string;
  readonly type: FieldType;
  /** `csv.header` */
  readonly header: string;
  /** `csv.format`: a Sprintf format, or a Go time layout for datetime. */
  readonly format?: string;
}

function quoteIfComma(s: string): string {
  return s.includes(',') ? `"${s}"` : s;
}

/** The header line including its `\r\n`. */
export function formatCsvHeader(columns: readonly CsvWriteColumn[], separator = ','): string {
  return columns.map((c) => quoteIfComma(c.header)).join(separator) + '\r\n';
}

/** Text of one value as the writer prints it (before comma quoting). */
export function formatCsvValue(v: Value, col: CsvWriteColumn): string {
  const format = col.format ?? '';
  switch (col.type) {
    case 'datetime':
      if (!(v instanceof DateTime)) break;
      return goTimeFormat(v, format);
    case 'decimal2':
      if (!(v instanceof Decimal)) break;
      return goSprintf(format, [decimalToFixed(v, 2)]);
    case 'int':
      if (typeof v !== 'bigint') break;
      return goSprintf(format, [v]);
    case 'float':
      if (typeof v !== 'number') break;
      return goSprintf(format, [v]);
    case 'string':
      if (typeof v !== 'string') break;
      return goSprintf(format, [v]);
    case 'bool':
      if (typeof v !== 'boolean') break;
      return goSprintf(format, [v]);
  }
  throw new PlexusError('CSV_VALUE_TYPE', `column ${col.name} is ${col.type} but got a ${describe(v)} value`);
}

function describe(v: Value): string {
  if (v instanceof DateTime) return 'datetime';
  if (v instanceof Decimal) return 'decimal';
  return typeof v;
}

/** One data line including its `\n`. */
export function formatCsvLine(
  values: readonly Value[],
  columns: readonly CsvWriteColumn[],
  separator = ',',
): string {
  if (values.length !== columns.length) {
    throw new PlexusError('CSV_ROW_WIDTH', `a row has ${values.length} values for ${columns.length} columns`);
  }
  let line = '';
  for (let i = 0; i < columns.length; i++) {
    if (i > 0) line += separator;
    line += quoteIfComma(formatCsvValue(values[i] as Value, columns[i] as CsvWriteColumn));
  }
  return line + '\n';
}

/** Writes rows of values (in column order) to a stream, respecting backpressure. */
export class CsvTableWriter {
  private readonly separator: string;
  private headerWritten = false;
  private rows = 0;

  constructor(
    private readonly stream: Writable,
    private readonly columns: readonly CsvWriteColumn[],
    separator?: string,
  ) {
    if (columns.length === 0) throw new UserInputError('CSV_COLUMNS', 'a CSV file needs at least one column');
    this.separator = separator === undefined || separator === '' ? ',' : separator;
  }

  get rowsWritten(): number {
    return this.rows;
  }

  async writeRows(rows: readonly (readonly Value[])[]): Promise<void> {
    let text = this.headerWritten ? '' : formatCsvHeader(this.columns, this.separator);
    this.headerWritten = true;
    for (const r of rows) text += formatCsvLine(r, this.columns, this.separator);
    this.rows += rows.length;
    await this.put(text);
  }

  /** Writes the header if no row was written (an empty result is a header-only file). */
  async finish(): Promise<void> {
    if (!this.headerWritten) await this.writeRows([]);
  }

  private async put(text: string): Promise<void> {
    if (text === '') return;
    if (!this.stream.write(text)) {
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
