import type { FieldType, GoLocation, Value } from '../values/index.js';

/** Static type of an expression: a field type or one of Go's intermediate types. */
export type ExprType = FieldType | 'goint' | 'month' | 'location';

export interface Scope {
  /** alias → field → type, e.g. { r: {...}, l: {...} }; bare identifiers (py_calc) use alias ''. */
  vars: Record<string, Record<string, FieldType>>;
  /** e.g. { wfmodel: { RunStart: 1n, ... } } */
  constants?: Record<string, Record<string, Value>>;
  /** aggregate call allowed at the root (grouped lookup w.fields) */
  aggregates?: boolean;
  /** round each decimal + - * / result to 2 places (w.fields, file columns, aggregates) */
  decimalRounding?: boolean;
  /** py_calc expressions only: bare identifiers are fields of vars[''] */
  bareIdentifiers?: boolean;
}

/** Runtime values by alias and field. */
export type Env = Record<string, Record<string, Value>>;

export interface FieldRef {
  alias: string;
  field: string;
}

export interface Accumulator {
  add(env: Env): void;
  result(): Value;
  /** number of rows applied so far (for the _if variants: rows whose condition was true) */
  readonly count: number;
}

export interface AggregateSpec {
  readonly fn: string;
  newAccumulator(): Accumulator;
}

export interface CompiledExpr {
  readonly source: string;
  readonly type: ExprType;
  /** every alias.field the expression reads (deduplicated, in order of first appearance) */
  readonly fields: readonly FieldRef[];
  /** set when the root is an aggregate call */
  readonly aggregate?: AggregateSpec;
  /**
   * Evaluate for one row. Throws ExprError for run-time errors. Go-only results are returned as:
   * goint → bigint, month → number (1..12), location → its name (string).
   */
  eval(env: Env): Value;
}

/** Runtime representation inside the evaluator: goint → bigint, month → number, location → GoLocation. */
export type Rt = Value | GoLocation;
