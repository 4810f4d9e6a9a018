export { DateTime, Decimal, FIELD_TYPES, type FieldType, type Value } from './types.js';
