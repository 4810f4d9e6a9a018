import type { BinaryOp } from './ast.js';
import type { ExprType, Rt } from './types.js';

/**
 * The checked tree: every node has its static type; numeric promotions are explicit `conv` nodes;
 * built-in calls are resolved to an implementation. Both the closure compiler and the tree-walking
 * interpreter (benchmark baseline) run it.
 */
export type NumType = 'int' | 'float' | 'decimal2';

interface Base {
  readonly type: ExprType;
  readonly pos: number;
}

export interface TConst extends Base {
  readonly k: 'const';
  readonly value: Rt;
}
export interface TField extends Base {
  readonly k: 'field';
  readonly alias: string;
  readonly field: string;
}
export interface TConv extends Base {
  readonly k: 'conv';
  readonly x: TNode;
}
export interface TNeg extends Base {
  readonly k: 'neg';
  readonly x: TNode;
}
export interface TNot extends Base {
  readonly k: 'not';
  readonly x: TNode;
}
export interface TArith extends Base {
  readonly k: 'arith';
  readonly op: '+' | '-' | '*' | '/' | '%';
  readonly x: TNode;
  readonly y: TNode;
  /** decimal rounding context: round the decimal result to 2 places */
  readonly round: boolean;
}
export interface TCmp extends Base {
  readonly k: 'cmp';
  readonly op: Extract<BinaryOp, '==' | '!=' | '<' | '<=' | '>' | '>='>;
  /** common operand type after promotion */
  readonly operand: 'int' | 'float' | 'decimal2' | 'string' | 'bool' | 'datetime';
  readonly x: TNode;
  readonly y: TNode;
}
export interface TLogic extends Base {
  readonly k: 'logic';
  readonly op: '&&' | '||';
  readonly x: TNode;
  readonly y: TNode;
}
export interface TCall extends Base {
  readonly k: 'call';
  readonly name: string;
  readonly args: readonly TNode[];
  /** implementation over evaluated arguments; may throw ValueParseError/ValueRangeError */
  readonly impl: (args: readonly Rt[]) => Rt;
  /** no side effects and no dependency on the clock: may be folded when all arguments are constants */
  readonly pure: boolean;
}

export type TNode = TConst | TField | TConv | TNeg | TNot | TArith | TCmp | TLogic | TCall;
