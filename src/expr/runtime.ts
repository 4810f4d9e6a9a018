import { UserInputError } from '../errors/index.js';
import { DateTime, Decimal, GoLocation } from '../values/index.js';
import { ExprError } from './errors.js';
import type { ExprType, Rt } from './types.js';

/** Does a runtime value have the representation of a static type? */
export function hasType(t: ExprType, v: unknown): boolean {
  switch (t) {
    case 'int':
    case 'goint':
      return typeof v === 'bigint';
    case 'float':
    case 'month':
      return typeof v === 'number';
    case 'string':
      return typeof v === 'string';
    case 'bool':
      return typeof v === 'boolean';
    case 'decimal2':
      return v instanceof Decimal;
    case 'datetime':
      return v instanceof DateTime;
    case 'location':
      return v instanceof GoLocation;
  }
}

export function describeRuntime(v: unknown): string {
  if (v === undefined) return 'no value';
  if (v === null) return 'null';
  if (typeof v === 'bigint') return `int ${v}`;
  if (typeof v === 'number') return `float ${v}`;
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'boolean') return `bool ${v}`;
  if (v instanceof Decimal) return `decimal2 ${v.toString()}`;
  if (v instanceof DateTime) return 'datetime';
  return typeof v;
}

export function fieldError(
  alias: string,
  field: string,
  type: ExprType,
  v: unknown,
  pos: number,
  src: string,
): ExprError {
  if (v === undefined)
    return new ExprError(`no value for ${alias ? alias + '.' : ''}${field}`, pos, src, 'EXPR_EVAL');
  return new ExprError(
    `${alias ? alias + '.' : ''}${field} should be ${type} but the row has ${describeRuntime(v)}`,
    pos,
    src,
    'EXPR_EVAL',
  );
}

/** Turn a value-layer error (bad parse, NaN to decimal, ...) into an ExprError at the call. */
export function wrapEvalError(e: unknown, pos: number, src: string): unknown {
  if (e instanceof ExprError) return e;
  if (e instanceof UserInputError) return new ExprError(e.message, pos, src, 'EXPR_EVAL');
  return e;
}

/** How eval() reports Go-only results (see CompiledExpr.eval). */
export function exportValue(t: ExprType, v: Rt): import('../values/index.js').Value {
  return t === 'location' ? (v as GoLocation).name : (v as import('../values/index.js').Value);
}
