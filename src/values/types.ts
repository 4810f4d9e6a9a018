import { Decimal } from 'decimal.js';

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

export { Decimal };
