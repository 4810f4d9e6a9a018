import { DateTime, Decimal, type FieldType, type Value } from './types.js';
import { DECIMAL_ZERO, decimalFromFloat, goRound } from './decimal.js';
import { ValueParseError } from './errors.js';
import { goTimeParse } from './gotime.js';
import { parseGoBool, parseGoFloat, parseGoInt } from './parse.js';

/** The Go zero value of a field type (what a missing value becomes: Capillaries has no NULL). */
export function zeroValue(t: FieldType): Value {
  switch (t) {
    case 'int':
      return 0n;
    case 'float':
      return 0;
    case 'decimal2':
      return DECIMAL_ZERO;
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'datetime':
      return DateTime.zero();
  }
}

/** The field type a runtime value belongs to. */
export function valueTypeOf(v: Value): FieldType {
  switch (typeof v) {
    case 'bigint':
      return 'int';
    case 'number':
      return 'float';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    default:
      return v instanceof Decimal ? 'decimal2' : 'datetime';
  }
}

export function isValueOfType(v: Value, t: FieldType): boolean {
  switch (t) {
    case 'int':
      return typeof v === 'bigint';
    case 'float':
      return typeof v === 'number';
    case 'string':
      return typeof v === 'string';
    case 'bool':
      return typeof v === 'boolean';
    case 'decimal2':
      return v instanceof Decimal;
    case 'datetime':
      return v instanceof DateTime;
  }
}

/** Both values have the same field type (int and float are different types, as in Go). */
export function sameType(a: Value, b: Value): boolean {
  return valueTypeOf(a) === valueTypeOf(b);
}

/** Layout of datetime `default_value`s in scripts. */
export const DEFAULT_VALUE_DATETIME_LAYOUT = '2006-01-02T15:04:05.000-07:00';

/**
 * A table field's `default_value` (used by left lookups when there is no right row), Capillaries rules:
 * the text is trimmed; empty → the type's zero value; int → ParseInt, float → ParseFloat,
 * decimal2 → ParseFloat then round(x×100)/100, bool → ParseBool, datetime → layout
 * 2006-01-02T15:04:05.000-07:00, string → the trimmed text. Throws ValueParseError naming the problem.
 */
export function parseDefaultValue(t: FieldType, text: string): Value {
  const s = text.trim();
  if (s === '') return zeroValue(t);
  try {
    switch (t) {
      case 'int':
        return parseGoInt(s);
      case 'float':
        return parseGoFloat(s);
      case 'decimal2':
        return decimalFromFloat(goRound(parseGoFloat(s) * 100) / 100);
      case 'bool':
        return parseGoBool(s);
      case 'datetime':
        return goTimeParse(DEFAULT_VALUE_DATETIME_LAYOUT, s);
      case 'string':
        return s;
    }
  } catch (e) {
    if (e instanceof ValueParseError) {
      throw new ValueParseError(
        `cannot use default value ${JSON.stringify(text)} for type ${t}: ${e.message}`,
      );
    }
    throw e;
  }
}

/** Equality of two values of the same type (decimals by value, datetimes by instant). */
export function valuesEqual(a: Value, b: Value): boolean {
  if (a instanceof Decimal) return b instanceof Decimal && a.eq(b);
  if (a instanceof DateTime) return b instanceof DateTime && a.epochMs === b.epochMs;
  return a === b;
}
