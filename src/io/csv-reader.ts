import { UserInputError } from '../errors/index.js';

/**
 * CSV/TSV reading with the semantics of Go's `encoding/csv` Reader configured as Capillaries configures it:
 * the delimiter is the first byte of the separator, `LazyQuotes` is on, `""` inside a quoted field is one
 * quote, quoted fields may contain newlines, `\r\n` becomes `\n`, blank lines are skipped and not counted,
 * no comment character, no trimming, and the field count of the first record is enforced for every record.
 *
 * The parser is a port of Go's line-oriented algorithm: it works on whole lines (split at `\n`) and keeps
 * its state across lines only while inside a quoted field, so memory is bounded by the longest record.
 */

/** One record: `index` counts records from 0 (blank lines are not counted), `line` is the 1-based physical line. */
export interface CsvRecord {
  readonly index: number;
  readonly line: number;
  readonly fields: string[];
}

export interface CsvReadOptions {
  /** Only the first character is used (Capillaries uses the first byte); default `,`. */
  readonly separator?: string;
  /** Name of the file or URL, used in error messages. */
  readonly source?: string;
}

const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/** The delimiter byte of a separator string; rejects what Go's reader rejects and non-ASCII first characters. */
export function csvDelimiter(separator: string | undefined, source = 'CSV'): number {
  if (separator === undefined || separator === '') return 0x2c;
  const c = separator.charCodeAt(0);
  if (c >= 0x80) {
    throw new UserInputError(
      'CSV_SEPARATOR',
      `${source}: separator ${JSON.stringify(separator)} starts with a non-ASCII character; only the first byte of the separator is used and it must be an ASCII character`,
    );
  }
  if (c === NL || c === CR || c === QUOTE || c === 0) {
    throw new UserInputError(
      'CSV_SEPARATOR',
      `${source}: separator ${JSON.stringify(separator)} is not usable: a CSV delimiter cannot be a quote, a line break or NUL`,
    );
  }
  return c;
}

/**
 * Incremental parser: feed it chunks with `push`, then call `end`. Each call returns the records completed
 * by that input. Throws UserInputError (code `CSV_FIELD_COUNT`) when a record has a different number of
 * fields than the first record.
 */
export class GoCsvParser {
  private readonly comma: number;
  private readonly source: string;
  private carry: Buffer[] = [];
  private physLine = 0;
  private recordIndex = 0;
  private expectedFields: number | undefined;
  // state of the record being parsed (only non-empty between lines inside a quoted field)
  private inQuoted = false;
  private fields: string[] = [];
  private fieldText = '';
  private recStartLine = 0;
  private out: CsvRecord[] = [];

  constructor(options: CsvReadOptions = {}) {
    this.source = options.source ?? 'CSV';
    this.comma = csvDelimiter(options.separator, this.source);
  }

  push(chunk: Uint8Array | string): CsvRecord[] {
    const buf =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(NL, start);
      if (nl < 0) break;
      let line: Buffer;
      if (this.carry.length > 0) {
        this.carry.push(buf.subarray(start, nl));
        line = Buffer.concat(this.carry);
        this.carry = [];
      } else {
        line = buf.subarray(start, nl);
      }
      // normalise \r\n to \n
      const end = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
      this.processLine(line.subarray(0, end), true);
      start = nl + 1;
    }
    if (start < buf.length)
      this.carry.push(start === 0 ? Buffer.from(buf) : Buffer.from(buf.subarray(start)));
    return this.take();
  }

  end(): CsvRecord[] {
    if (this.carry.length > 0) {
      let line = Buffer.concat(this.carry);
      this.carry = [];
      // Go drops a trailing \r before EOF
      if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
      this.processLine(line, false);
    }
    if (this.inQuoted) {
      // Abrupt end of file inside a quoted field: with LazyQuotes the field ends here.
      this.inQuoted = false;
      this.finishField();
      this.finishRecord();
    }
    return this.take();
  }

  private take(): CsvRecord[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  private processLine(content: Buffer, nl: boolean): void {
    this.physLine++;
    let p = 0;
    if (this.inQuoted) {
      this.inQuoted = false;
      p = this.continueQuoted(content, 0, nl);
      if (p < 0) return;
    } else {
      if (content.length === 0) return; // blank line: skipped and not counted
      this.recStartLine = this.physLine;
      this.fields = [];
    }
    // parse fields from position p (p is at the start of a field)
    for (;;) {
      if (p >= content.length || content[p] !== QUOTE) {
        const i = content.indexOf(this.comma, p);
        if (i >= 0) {
          this.fields.push(content.toString('utf8', p, i));
          p = i + 1;
          continue;
        }
        this.fields.push(content.toString('utf8', p, content.length));
        this.finishRecord();
        return;
      }
      // quoted field
      this.fieldText = '';
      p = this.continueQuoted(content, p + 1, nl);
      if (p < 0) return;
    }
  }

  /**
   * Continues a quoted field at position p. Returns the position of the next field's start when the field
   * ended with `",`, or -1 when the line was consumed (record finished, or the field continues on the next line).
   */
  private continueQuoted(content: Buffer, p: number, nl: boolean): number {
    for (;;) {
      const i = content.indexOf(QUOTE, p);
      if (i >= 0) {
        this.fieldText += content.toString('utf8', p, i);
        p = i + 1;
        if (p < content.length && content[p] === QUOTE) {
          this.fieldText += '"';
          p++;
        } else if (p < content.length && content[p] === this.comma) {
          this.finishField();
          return p + 1;
        } else if (p >= content.length) {
          this.finishField();
          this.finishRecord();
          return -1;
        } else {
          this.fieldText += '"'; // bare quote (LazyQuotes)
        }
      } else if (p < content.length || nl) {
        this.fieldText += content.toString('utf8', p, content.length);
        if (nl) this.fieldText += '\n';
        this.inQuoted = true;
        if (!nl) {
          // last line of the input without a newline: end of file inside the quoted field
          this.inQuoted = false;
          this.finishField();
          this.finishRecord();
        }
        return -1;
      } else {
        this.finishField();
        this.finishRecord();
        return -1;
      }
    }
  }

  private finishField(): void {
    this.fields.push(this.fieldText);
    this.fieldText = '';
  }

  private finishRecord(): void {
    const fields = this.fields;
    this.fields = [];
    if (this.expectedFields === undefined) {
      this.expectedFields = fields.length;
    } else if (fields.length !== this.expectedFields) {
      throw new UserInputError(
        'CSV_FIELD_COUNT',
        `${this.source}, line ${this.recStartLine} (record ${this.recordIndex}): wrong number of fields: expected ${this.expectedFields} like the first record, found ${fields.length}`,
      );
    }
    this.out.push({ index: this.recordIndex++, line: this.recStartLine, fields });
  }
}

/** Parses a whole CSV text (small inputs, tests). */
export function parseCsv(text: string | Uint8Array, options: CsvReadOptions = {}): CsvRecord[] {
  const parser = new GoCsvParser(options);
  return [...parser.push(text), ...parser.end()];
}

/** Streams the records of a byte stream (e.g. a Readable from `openRead`). */
export async function* readCsvRecords(
  input: AsyncIterable<Uint8Array | string>,
  options: CsvReadOptions = {},
): AsyncGenerator<CsvRecord, void, undefined> {
  const parser = new GoCsvParser(options);
  for await (const chunk of input) {
    for (const rec of parser.push(chunk)) yield rec;
  }
  for (const rec of parser.end()) yield rec;
}
