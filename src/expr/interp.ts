import { Decimal, decimalDiv, roundDecimal2 } from '../values/index.js';
import { ExprError } from './errors.js';
import { compareValues, converter, decimalArith, decimalNeg } from './ops.js';
import { fieldError, hasType, wrapEvalError } from './runtime.js';
import type { TNode } from './typed.js';
import type { Env, Rt } from './types.js';

/**
 * A plain tree-walking evaluator of the checked tree: same semantics as the compiled closures, but it
 * dispatches on node kind, operator and type at every step. Used as the benchmark baseline and as an
 * independent check of the compiler in tests.
 */
export function interpret(n: TNode, env: Env, src: string): Rt {
  switch (n.k) {
    case 'const':
      return n.value;
    case 'field': {
      const v = env[n.alias]?.[n.field];
      if (!hasType(n.type, v)) throw fieldError(n.alias, n.field, n.type, v, n.pos, src);
      return v as Rt;
    }
    case 'conv':
      try {
        return converter(n.x.type, n.type)(interpret(n.x, env, src));
      } catch (e) {
        throw wrapEvalError(e, n.pos, src);
      }
    case 'neg': {
      const v = interpret(n.x, env, src);
      if (n.type === 'int') return BigInt.asIntN(64, -(v as bigint));
      if (n.type === 'float') return -(v as number);
      return decimalNeg(v as Decimal);
    }
    case 'not':
      return !(interpret(n.x, env, src) as boolean);
    case 'logic': {
      const a = interpret(n.x, env, src) as boolean;
      const b = interpret(n.y, env, src) as boolean;
      return n.op === '&&' ? a && b : a || b;
    }
    case 'cmp':
      return compareValues(n.operand, n.op, interpret(n.x, env, src), interpret(n.y, env, src));
    case 'arith': {
      const a = interpret(n.x, env, src);
      const b = interpret(n.y, env, src);
      switch (n.type) {
        case 'string':
          return (a as string) + (b as string);
        case 'int': {
          const x = a as bigint;
          const y = b as bigint;
          switch (n.op) {
            case '+':
              return BigInt.asIntN(64, x + y);
            case '-':
              return BigInt.asIntN(64, x - y);
            case '*':
              return BigInt.asIntN(64, x * y);
            default:
              if (y === 0n) throw new ExprError('integer divide by zero', n.pos, src, 'EXPR_EVAL');
              return BigInt.asIntN(64, n.op === '/' ? x / y : x % y);
          }
        }
        case 'float': {
          const x = a as number;
          const y = b as number;
          return n.op === '+' ? x + y : n.op === '-' ? x - y : n.op === '*' ? x * y : x / y;
        }
        default: {
          if (n.op === '/') {
            if ((b as Decimal).isZero())
              throw new ExprError('decimal division by 0', n.pos, src, 'EXPR_EVAL');
            const r = decimalDiv(a as Decimal, b as Decimal);
            return n.round ? roundDecimal2(r) : r;
          }
          return decimalArith(n.op, a as Decimal, b as Decimal, n.round);
        }
      }
    }
    case 'call': {
      const vs = n.args.map((a) => interpret(a, env, src));
      try {
        return n.impl(vs);
      } catch (e) {
        throw wrapEvalError(e, n.pos, src);
      }
    }
  }
}
