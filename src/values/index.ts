export {
  DateTime,
  Decimal,
  FIELD_TYPES,
  GoInt,
  GoLocation,
  GoMonth,
  type FieldType,
  type FmtArg,
  type Value,
} from './types.js';
export { ValueParseError, ValueRangeError } from './errors.js';
export {
  INT64_MAX,
  INT64_MIN,
  addInt64,
  divInt64,
  floatToInt64,
  int64ToFloat,
  isInt64,
  mulInt64,
  negInt64,
  remInt64,
  subInt64,
  wrapInt64,
} from './int64.js';
export {
  DECIMAL_ZERO,
  DIVISION_PRECISION,
  decimal2ThroughFloat,
  decimalAdd,
  decimalDiv,
  decimalFromFloat,
  decimalFromInt,
  decimalMul,
  decimalNeg,
  decimalParts,
  decimalSub,
  decimalToFixed,
  decimalToFloat,
  decimalToGoString,
  decimalToInt64,
  goRound,
  parseGoDecimal,
  roundDecimal,
  roundDecimal2,
} from './decimal.js';
export { exactDigits, formatGoFloat, shortestDigits, shortestFloatString } from './floatfmt.js';
export { parseGoBool, parseGoFloat, parseGoInt } from './parse.js';
export { goQuote, goSprintf, goTypeName, goValueString, isPrint } from './sprintf.js';
export {
  civilFromDays,
  daysFromCivil,
  daysIn,
  goMonthName,
  goTimeDate,
  goTimeFormat,
  goTimeParse,
  goTimeString,
  isLeap,
  LONG_MONTH_NAMES,
  microsSinceYear1,
  wallClock,
} from './gotime.js';
export {
  DEFAULT_VALUE_DATETIME_LAYOUT,
  isValueOfType,
  parseDefaultValue,
  sameType,
  valueTypeOf,
  valuesEqual,
  zeroValue,
} from './values.js';
