import cassandra from 'cassandra-driver';
import { PlexusError } from '../../errors/index.js';
import { DateTime, Decimal, type FieldType, type Value } from '../../values/index.js';

/** CQL column type of each field type (§5.1 of the Capillaries layout). */
export const CQL_TYPES: Readonly<Record<FieldType, string>> = {
  int: 'bigint',
  float: 'double',
  decimal2: 'decimal',
  string: 'text',
  bool: 'boolean',
  datetime: 'timestamp',
};

function typeError(table: string, field: string, type: FieldType, v: unknown): PlexusError {
  const shown = typeof v === 'object' && v !== null ? (v.constructor?.name ?? 'object') : typeof v;
  return new PlexusError(
    'ROW_VALUE_TYPE',
    `field ${field} of ${table} is ${type} but the value is a ${shown}`,
  );
}

/** A value as the driver binds it for the field's CQL type. */
export function encodeValue(v: Value, type: FieldType, table: string, field: string): unknown {
  switch (type) {
    case 'int':
      if (typeof v !== 'bigint') throw typeError(table, field, type, v);
      return v;
    case 'float':
      if (typeof v !== 'number') throw typeError(table, field, type, v);
      return v;
    case 'decimal2':
      if (!(v instanceof Decimal)) throw typeError(table, field, type, v);
      return cassandra.types.BigDecimal.fromString(v.toFixed());
    case 'string':
      if (typeof v !== 'string') throw typeError(table, field, type, v);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw typeError(table, field, type, v);
      return v;
    case 'datetime':
      if (!(v instanceof DateTime)) throw typeError(table, field, type, v);
      return new Date(Math.trunc(v.epochMs));
  }
}

/**
 * A stored value back as a Plexus value. A null cell (a row written by another tool) reads as the type's
 * zero value, as Capillaries reads missing values.
 */
export function decodeValue(raw: unknown, type: FieldType, table: string, field: string): Value {
  switch (type) {
    case 'int':
      if (typeof raw === 'bigint') return raw;
      if (raw === null || raw === undefined) return 0n;
      break;
    case 'float':
      if (typeof raw === 'number') return raw;
      if (raw === null || raw === undefined) return 0;
      break;
    case 'decimal2':
      if (raw instanceof cassandra.types.BigDecimal) return new Decimal(raw.toString());
      if (raw === null || raw === undefined) return new Decimal(0);
      break;
    case 'string':
      if (typeof raw === 'string') return raw;
      if (raw === null || raw === undefined) return '';
      break;
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (raw === null || raw === undefined) return false;
      break;
    case 'datetime':
      if (raw instanceof Date) return new DateTime(raw.getTime());
      if (raw === null || raw === undefined) return DateTime.zero();
      break;
  }
  throw new PlexusError(
    'STORE_CORRUPT',
    `field ${field} of ${table} holds ${String(raw)} which is not a stored ${type}`,
  );
}
