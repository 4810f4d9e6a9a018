import { UserInputError } from '../errors/index.js';

/**
 * A text could not be converted to a value the way Go would convert it. The message is Go's own wording
 * where a Capillaries user would recognise it (`strconv.ParseInt: parsing "x": invalid syntax`,
 * `parsing time "x" as "2006": cannot parse "x" as "2006"`).
 */
export class ValueParseError extends UserInputError {
  constructor(message: string) {
    super('VALUE_PARSE', message);
  }
}

/** A value operation that Go would refuse at run time (decimal division by 0, NaN to decimal, ...). */
export class ValueRangeError extends UserInputError {
  constructor(message: string) {
    super('VALUE_RANGE', message);
  }
}
