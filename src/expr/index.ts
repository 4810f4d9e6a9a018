import type { Value } from '../values/index.js';
import { compileAggregate } from './aggregates.js';
import type { Call, ExprNode } from './ast.js';
import { Checker } from './checker.js';
import { compileTree } from './compile.js';
import { ExprError } from './errors.js';
import { interpret } from './interp.js';
import { parseExpression } from './parser.js';
import { exportValue } from './runtime.js';
import type { CompiledExpr, Env, ExprType, Scope } from './types.js';

export { ExprError } from './errors.js';
export { parseExpression } from './parser.js';
export { formatNode, PRECEDENCE } from './ast.js';
export type {
  BinaryOp,
  Binary,
  Call,
  ExprNode,
  FloatLit,
  Ident,
  IntLit,
  Paren,
  Selector,
  StringLit,
  Unary,
  UnaryOp,
} from './ast.js';
export type { Accumulator, AggregateSpec, CompiledExpr, Env, ExprType, FieldRef, Scope } from './types.js';
export {
  buildKey,
  compareKeys,
  DEFAULT_STRING_KEY_LEN,
  parseIndexDef,
  parseOrderDef,
  validateIndexDef,
  type IndexComponent,
  type IndexDef,
} from './keys.js';
export { AGGREGATE_NAMES } from './builtins.js';

/** The wfmodel.* constants of dependency policy rules (§1.14). */
export const WFMODEL_CONSTANTS: Readonly<Record<string, Value>> = {
  RunNone: 0n,
  RunStart: 1n,
  RunComplete: 2n,
  RunStop: 3n,
  NodeBatchNone: 0n,
  NodeBatchStart: 1n,
  NodeBatchSuccess: 2n,
  NodeBatchFail: 3n,
  NodeBatchRunStopReceived: 104n,
};

function unparen(n: ExprNode): ExprNode {
  return n.kind === 'paren' ? unparen(n.x) : n;
}

/**
 * Parse, type-check and compile an expression for a scope. Syntax and type errors are ExprErrors with
 * the position and a readable message ("unknown field l.valu (did you mean l.value?) at 0").
 */
export function compileExpression(source: string, scope: Scope): CompiledExpr {
  const ast = parseExpression(source);
  const checker = new Checker(source, scope);
  const root = unparen(ast);
  const aggName = checker.aggregateName(root);
  if (aggName !== undefined && scope.aggregates) {
    const { spec, type } = compileAggregate(root as Call, aggName, checker, source);
    const pos = root.pos;
    return {
      source,
      type,
      fields: checker.fields,
      aggregate: spec,
      eval(): Value {
        throw new ExprError(
          `${aggName}() is an aggregate: compute it over the group with aggregate.newAccumulator()`,
          pos,
          source,
          'EXPR_EVAL',
        );
      },
    };
  }
  const tree = checker.check(ast);
  const fn = compileTree(tree, source);
  const type: ExprType = tree.type;
  const exportGoOnly = type === 'location';
  return {
    source,
    type,
    fields: checker.fields,
    eval: exportGoOnly ? (env: Env): Value => exportValue(type, fn(env)) : (fn as (env: Env) => Value),
  };
}

/**
 * The same expression evaluated by a tree-walking interpreter (no closures, no constant folding).
 * A baseline for benchmarks and a cross-check in tests; not meant for production use.
 */
export function interpretExpression(source: string, scope: Scope): (env: Env) => Value {
  const ast = parseExpression(source);
  const checker = new Checker(source, scope);
  const tree = checker.check(ast);
  return (env) => exportValue(tree.type, interpret(tree, env, source));
}
