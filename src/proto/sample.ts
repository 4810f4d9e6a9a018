import { UserInputError } from '../errors/index.js';
import type { CsvRecord } from '../io/index.js';

/**
 * The sample a CSV prototype is inferred from: the header record (if any) and the first data records, read
 * from a record stream that is left (and so closed) as soon as the sample is complete.
 */

/** How many data lines decide the column types (Capillaries: the first 100). */
export const SAMPLE_LINES = 100;

export interface CsvLineOptions {
  /** File name or URL for messages. */
  readonly source: string;
  /** Record index of the header line; -1: no header. */
  readonly hdrLineIdx: number;
  /** Record index of the first data line. */
  readonly firstDataLineIdx: number;
}

export interface CsvSample {
  /** Header fields (header mode only). */
  readonly header?: readonly string[];
  /** The first (at most SAMPLE_LINES) data records. */
  readonly rows: readonly (readonly string[])[];
  /** Fields per record (the same in every record: the reader enforces it). */
  readonly columns: number;
}

/** Checks the line indexes (integers, header -1 or more, data from the header on). */
export function checkCsvLineOptions(o: CsvLineOptions): void {
  if (!Number.isInteger(o.hdrLineIdx) || o.hdrLineIdx < -1) {
    throw new UserInputError(
      'PROTO_OPTION',
      `${o.source}: header line index ${o.hdrLineIdx} is not valid: use -1 (no header) or a line index from 0`,
    );
  }
  if (!Number.isInteger(o.firstDataLineIdx) || o.firstDataLineIdx < 0) {
    throw new UserInputError(
      'PROTO_OPTION',
      `${o.source}: first data line index ${o.firstDataLineIdx} is not valid: use a line index from 0`,
    );
  }
  if (o.hdrLineIdx >= 0 && o.firstDataLineIdx < o.hdrLineIdx) {
    throw new UserInputError(
      'PROTO_OPTION',
      `${o.source}: first data line index ${o.firstDataLineIdx} comes before the header line ${o.hdrLineIdx}: data lines must follow the header`,
    );
  }
}

/** Reads the header and up to `maxLines` data records, then stops reading. */
export async function collectCsvSample(
  records: AsyncIterable<CsvRecord>,
  options: CsvLineOptions & { readonly maxLines?: number },
): Promise<CsvSample> {
  checkCsvLineOptions(options);
  const { source, hdrLineIdx, firstDataLineIdx } = options;
  const max = options.maxLines ?? SAMPLE_LINES;
  let header: string[] | undefined;
  const rows: string[][] = [];
  let columns: number | undefined;
  let seen = 0;
  let lastLine = 0;
  for await (const rec of records) {
    seen++;
    lastLine = rec.line;
    columns ??= rec.fields.length;
    if (rec.index === hdrLineIdx) header = rec.fields;
    else if (rec.index >= firstDataLineIdx) rows.push(rec.fields);
    if (rows.length >= max && (hdrLineIdx < 0 || header !== undefined)) break;
  }
  if (columns === undefined) {
    throw new UserInputError(
      'PROTO_EMPTY_FILE',
      `${source}: the file is empty: no lines to infer column types from (blank lines do not count)`,
    );
  }
  if (hdrLineIdx >= 0 && header === undefined) {
    throw new UserInputError(
      'PROTO_HEADER_LINE',
      `${source}: header line index ${hdrLineIdx} is past the end of the file: it has ${seen} line(s) (indexes 0-${seen - 1}, the last on line ${lastLine}; blank lines do not count)`,
    );
  }
  return header === undefined ? { rows, columns } : { header, rows, columns };
}
