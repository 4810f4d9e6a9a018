import { Decimal } from 'decimal.js';

/**
 * decimal.js is configured once, globally, for every layer:
 * - `precision` 1000 significant digits, so `+ - *` of any value the engine can hold (int64, the shortest
 *   representation of any float64, 2-digit decimals and their products) are exact. Division never relies
 *   on it: `decimalDiv` (decimal.ts) divides exactly as Go's shopspring/decimal does (16 places).
 * - rounding half away from zero (ROUND_HALF_UP in decimal.js terms), as shopspring's Round.
 * - no exponential notation in toString() (Go's decimal String() never uses it).
 */
Decimal.set({
  precision: 1000,
  rounding: Decimal.ROUND_HALF_UP,
  toExpNeg: -9e15,
  toExpPos: 9e15,
  minE: -9e15,
  maxE: 9e15,
});

/** The six column/field types of the script format. */
export type FieldType = 'int' | 'float' | 'decimal2' | 'string' | 'bool' | 'datetime';

export const FIELD_TYPES: readonly FieldType[] = ['int', 'float', 'decimal2', 'string', 'bool', 'datetime'];

/**
 * A point in time with millisecond precision and the zone it was expressed in (Go's time.Time keeps
 * both; formatting with a layout that prints the zone needs it). Values read back from a store are UTC.
 */
export class DateTime {
  constructor(
    /** Milliseconds since 1970-01-01T00:00:00Z (may be negative, down to year 1). */
    readonly epochMs: number,
    /** Offset of the zone east of UTC, in seconds. */
    readonly offsetSeconds: number = 0,
    /** Zone abbreviation as Go prints it with `MST` (e.g. "UTC", "" for a numeric-only zone). */
    readonly zoneName: string = offsetSeconds === 0 ? 'UTC' : '',
  ) {}

  /** Go's zero time, 0001-01-01T00:00:00Z. */
  static readonly ZERO_EPOCH_MS = -62135596800000;

  static zero(): DateTime {
    return new DateTime(DateTime.ZERO_EPOCH_MS);
  }

  isZero(): boolean {
    return this.epochMs === DateTime.ZERO_EPOCH_MS;
  }

  toUTC(): DateTime {
    return this.offsetSeconds === 0 && this.zoneName === 'UTC' ? this : new DateTime(this.epochMs);
  }
}

/**
 * Runtime representation of a value: int → bigint (int64 semantics), float → number,
 * decimal2 → Decimal (decimal.js), string → string, bool → boolean, datetime → DateTime.
 */
export type Value = bigint | number | Decimal | string | boolean | DateTime;

/**
 * Go-only values that appear inside expressions but are never stored: Go `int` (the result of len()),
 * `time.Month` and `*time.Location`. They are formatted by goSprintf with their Go type names.
 */
export class GoInt {
  constructor(readonly value: bigint) {}
}

export class GoMonth {
  constructor(readonly month: number) {}
}

/** A fixed zone (Go's time.UTC or time.FixedZone(name, offset)). */
export class GoLocation {
  constructor(
    readonly name: string,
    readonly offsetSeconds: number,
  ) {}

  static readonly UTC = new GoLocation('UTC', 0);
}

/** Anything goSprintf can format. */
export type FmtArg = Value | GoInt | GoMonth | GoLocation;

export { Decimal };
