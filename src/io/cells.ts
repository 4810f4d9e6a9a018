import { UserInputError } from '../errors/index.js';
import {
  DECIMAL_ZERO,
  DateTime,
  ValueParseError,
  decimalFromFloat,
  goTimeParse,
  parseGoBool,
  parseGoDecimal,
  parseGoInt,
  roundDecimal2,
  type FieldType,
  type Value,
} from '../values/index.js';
import { GoScanFormat, goParseFloat, goTrimSpace } from './go-parse.js';

/**
 * Conversion of one data-file cell to a typed value, as Capillaries' file reader does it (§3.1):
 * an empty cell (empty after trimming white space) takes `col_default_value` parsed for the type, or the
 * type's zero value; `col_format` means fmt.Sscanf for int/float/decimal2 (trailing text ignored) and the
 * Go time layout for datetime (required); without a format, int/float/bool use the strict strconv parsers
 * and decimal2 the decimal parser; decimal2 values are rounded to 2 places (half away from zero).
 */

export interface CellColumn {
  /** Reader field name (`r.<name>`). */
  readonly name: string;
  readonly type: FieldType;
  /** `csv.col_format` */
  readonly format?: string;
  /** `col_default_value` */
  readonly defaultValue?: string;
}

/** Parses one cell; throws ValueParseError (the caller adds file, line and column). */
export type CellParser = (text: string) => Value;

function columnError(where: string, col: CellColumn, problem: string): UserInputError {
  return new UserInputError('CSV_COLUMN', `${where}: column ${col.name} (${col.type}): ${problem}`);
}

function isBlank(s: string | undefined): boolean {
  return s === undefined || goTrimSpace(s) === '';
}

/**
 * Checks the column definition (format allowed for the type, default value parseable) and returns its
 * cell parser. `where` names the file or node in error messages.
 */
export function compileCellParser(col: CellColumn, where: string): CellParser {
  const format = col.format === undefined || col.format === '' ? undefined : col.format;
  const dflt = col.defaultValue;
  const parseDefault = <T extends Value>(fn: (s: string) => T, zero: T): T => {
    if (isBlank(dflt)) return zero;
    try {
      return fn(dflt ?? '');
    } catch (err) {
      throw columnError(
        where,
        col,
        `default value ${JSON.stringify(dflt)} is not valid: ${(err as Error).message}`,
      );
    }
  };
  const noFormat = (): void => {
    if (format !== undefined) {
      throw columnError(
        where,
        col,
        `a format (${JSON.stringify(format)}) is not allowed for ${col.type} columns`,
      );
    }
  };
  const scan = (target: 'int' | 'float'): GoScanFormat | undefined => {
    if (format === undefined) return undefined;
    try {
      return new GoScanFormat(format, target);
    } catch (err) {
      throw columnError(where, col, (err as Error).message);
    }
  };

  switch (col.type) {
    case 'string': {
      noFormat();
      const empty = dflt ?? '';
      return (text) => (isBlank(text) ? empty : text);
    }
    case 'bool': {
      noFormat();
      const empty = parseDefault(parseGoBool, false);
      return (text) => {
        const t = goTrimSpace(text);
        return t === '' ? empty : parseGoBool(t);
      };
    }
    case 'int': {
      const empty = parseDefault(parseGoInt, 0n);
      const f = scan('int');
      return (text) => {
        const t = goTrimSpace(text);
        if (t === '') return empty;
        return f ? f.scanInt(t) : parseGoInt(t);
      };
    }
    case 'float': {
      const empty = parseDefault(goParseFloat, 0);
      const f = scan('float');
      return (text) => {
        const t = goTrimSpace(text);
        if (t === '') return empty;
        return f ? f.scanFloat(t) : goParseFloat(t);
      };
    }
    case 'decimal2': {
      const empty = parseDefault((s) => roundDecimal2(parseGoDecimal(s)), DECIMAL_ZERO);
      const f = scan('float');
      return (text) => {
        const t = goTrimSpace(text);
        if (t === '') return empty;
        if (f) {
          const x = f.scanFloat(t);
          if (!Number.isFinite(x)) throw new ValueParseError(`cannot convert ${x} to a decimal`);
          return roundDecimal2(decimalFromFloat(x));
        }
        return roundDecimal2(parseGoDecimal(t));
      };
    }
    case 'datetime': {
      if (format === undefined) {
        throw columnError(
          where,
          col,
          'a datetime column needs a format (a Go time layout such as 2006-01-02 15:04:05)',
        );
      }
      const empty = parseDefault((s) => goTimeParse(format, s), DateTime.zero());
      return (text) => {
        const t = goTrimSpace(text);
        return t === '' ? empty : goTimeParse(format, t);
      };
    }
    default:
      throw columnError(where, col, `unknown column type ${JSON.stringify(col.type as string)}`);
  }
}
