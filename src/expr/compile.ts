import { Decimal, decimalDiv, roundDecimal2, type DateTime } from '../values/index.js';
import { ExprError } from './errors.js';
import { compareUtf8, compareValues, converter, decimalArith, decimalNeg, stripQuotes } from './ops.js';
import { fieldError, hasType, wrapEvalError } from './runtime.js';
import type { TNode } from './typed.js';
import type { Env, Rt } from './types.js';

export type Fn = (env: Env) => Rt;

interface Gen {
  fn: Fn;
  /** set when the node folded to a constant */
  konst?: { v: Rt };
}

const EMPTY_ENV: Env = {};

/**
 * Compile a checked tree to nested closures, specialised per operator and operand type at compile
 * time (no dispatch on values while evaluating). Pure sub-expressions over constants are folded.
 */
export function compileTree(root: TNode, src: string): Fn {
  return gen(root, src).fn;
}

function constant(v: Rt): Gen {
  return { fn: () => v, konst: { v } };
}

function tryFold(g: Gen, children: readonly Gen[], pure: boolean): Gen {
  if (!pure || children.some((c) => c.konst === undefined)) return g;
  try {
    return constant(g.fn(EMPTY_ENV));
  } catch {
    return g; // the error belongs to evaluation time (e.g. 1/0): keep it there
  }
}

function gen(n: TNode, src: string): Gen {
  switch (n.k) {
    case 'const':
      return constant(n.value);
    case 'field': {
      const a = n.alias;
      const f = n.field;
      const t = n.type;
      const pos = n.pos;
      return {
        fn: (env) => {
          const v = env[a]?.[f];
          if (!hasType(t, v)) throw fieldError(a, f, t, v, pos, src);
          return v as Rt;
        },
      };
    }
    case 'conv': {
      const x = gen(n.x, src);
      const c = converter(n.x.type, n.type);
      const xf = x.fn;
      const pos = n.pos;
      return tryFold(
        {
          fn: (env) => {
            try {
              return c(xf(env));
            } catch (e) {
              throw wrapEvalError(e, pos, src);
            }
          },
        },
        [x],
        true,
      );
    }
    case 'neg': {
      const x = gen(n.x, src);
      const xf = x.fn;
      let fn: Fn;
      if (n.type === 'int') fn = (env) => BigInt.asIntN(64, -(xf(env) as bigint));
      else if (n.type === 'float') fn = (env) => -(xf(env) as number);
      else fn = (env) => decimalNeg(xf(env) as Decimal);
      return tryFold({ fn }, [x], true);
    }
    case 'not': {
      const x = gen(n.x, src);
      const xf = x.fn;
      return tryFold({ fn: (env) => !(xf(env) as boolean) }, [x], true);
    }
    case 'logic': {
      const x = gen(n.x, src);
      const y = gen(n.y, src);
      const xf = x.fn;
      const yf = y.fn;
      // No short-circuit: both sides are always evaluated (errors on the right propagate), as in Capillaries.
      const fn: Fn =
        n.op === '&&'
          ? (env) => {
              const a = xf(env) as boolean;
              const b = yf(env) as boolean;
              return a && b;
            }
          : (env) => {
              const a = xf(env) as boolean;
              const b = yf(env) as boolean;
              return a || b;
            };
      return tryFold({ fn }, [x, y], true);
    }
    case 'cmp': {
      const x = gen(n.x, src);
      const y = gen(n.y, src);
      return tryFold({ fn: cmpFn(n.op, n.operand, x.fn, y.fn) }, [x, y], true);
    }
    case 'arith': {
      const x = gen(n.x, src);
      const y = gen(n.y, src);
      return tryFold({ fn: arithFn(n.op, n.type, n.round, x.fn, y.fn, n.pos, src) }, [x, y], true);
    }
    case 'call': {
      const args = n.args.map((a) => gen(a, src));
      const impl = n.impl;
      const pos = n.pos;
      const fs = args.map((a) => a.fn);
      let fn: Fn;
      if (fs.length === 0) {
        fn = () => {
          try {
            return impl([]);
          } catch (e) {
            throw wrapEvalError(e, pos, src);
          }
        };
      } else if (fs.length === 1) {
        const a0 = fs[0] as Fn;
        fn = (env) => {
          const v = a0(env);
          try {
            return impl([v]);
          } catch (e) {
            throw wrapEvalError(e, pos, src);
          }
        };
      } else if (fs.length === 2) {
        const a0 = fs[0] as Fn;
        const a1 = fs[1] as Fn;
        fn = (env) => {
          const v0 = a0(env);
          const v1 = a1(env);
          try {
            return impl([v0, v1]);
          } catch (e) {
            throw wrapEvalError(e, pos, src);
          }
        };
      } else {
        fn = (env) => {
          const vs = new Array<Rt>(fs.length);
          for (let i = 0; i < fs.length; i++) vs[i] = (fs[i] as Fn)(env);
          try {
            return impl(vs);
          } catch (e) {
            throw wrapEvalError(e, pos, src);
          }
        };
      }
      return tryFold({ fn }, args, n.pure);
    }
  }
}

function cmpFn(op: string, operand: string, x: Fn, y: Fn): Fn {
  switch (operand) {
    case 'int':
      switch (op) {
        case '==':
          return (e) => (x(e) as bigint) === (y(e) as bigint);
        case '!=':
          return (e) => (x(e) as bigint) !== (y(e) as bigint);
        case '<':
          return (e) => (x(e) as bigint) < (y(e) as bigint);
        case '<=':
          return (e) => (x(e) as bigint) <= (y(e) as bigint);
        case '>':
          return (e) => (x(e) as bigint) > (y(e) as bigint);
        default:
          return (e) => (x(e) as bigint) >= (y(e) as bigint);
      }
    case 'float':
      switch (op) {
        case '==':
          return (e) => (x(e) as number) === (y(e) as number);
        case '!=':
          return (e) => (x(e) as number) !== (y(e) as number);
        case '<':
          return (e) => (x(e) as number) < (y(e) as number);
        case '<=':
          return (e) => (x(e) as number) <= (y(e) as number);
        case '>':
          return (e) => (x(e) as number) > (y(e) as number);
        default:
          return (e) => (x(e) as number) >= (y(e) as number);
      }
    case 'string':
      if (op === '==') return (e) => stripQuotes(x(e) as string) === stripQuotes(y(e) as string);
      if (op === '!=') return (e) => stripQuotes(x(e) as string) !== stripQuotes(y(e) as string);
      return (e) => {
        const c = compareUtf8(stripQuotes(x(e) as string), stripQuotes(y(e) as string));
        return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
      };
    case 'datetime':
      return (e) => {
        const a = (x(e) as DateTime).epochMs;
        const b = (y(e) as DateTime).epochMs;
        return op === '=='
          ? a === b
          : op === '!='
            ? a !== b
            : op === '<'
              ? a < b
              : op === '<='
                ? a <= b
                : op === '>'
                  ? a > b
                  : a >= b;
      };
    default:
      return (e) => compareValues(operand, op, x(e), y(e));
  }
}

function arithFn(op: string, type: string, round: boolean, x: Fn, y: Fn, pos: number, src: string): Fn {
  switch (type) {
    case 'string':
      return (e) => (x(e) as string) + (y(e) as string);
    case 'int':
      switch (op) {
        case '+':
          return (e) => BigInt.asIntN(64, (x(e) as bigint) + (y(e) as bigint));
        case '-':
          return (e) => BigInt.asIntN(64, (x(e) as bigint) - (y(e) as bigint));
        case '*':
          return (e) => BigInt.asIntN(64, (x(e) as bigint) * (y(e) as bigint));
        case '/':
          return (e) => {
            const a = x(e) as bigint;
            const b = y(e) as bigint;
            if (b === 0n) throw new ExprError('integer divide by zero', pos, src, 'EXPR_EVAL');
            return BigInt.asIntN(64, a / b);
          };
        default:
          return (e) => {
            const a = x(e) as bigint;
            const b = y(e) as bigint;
            if (b === 0n) throw new ExprError('integer divide by zero', pos, src, 'EXPR_EVAL');
            return BigInt.asIntN(64, a % b);
          };
      }
    case 'float':
      switch (op) {
        case '+':
          return (e) => (x(e) as number) + (y(e) as number);
        case '-':
          return (e) => (x(e) as number) - (y(e) as number);
        case '*':
          return (e) => (x(e) as number) * (y(e) as number);
        default:
          return (e) => (x(e) as number) / (y(e) as number);
      }
    default:
      if (op === '/') {
        return (e) => {
          const a = x(e) as Decimal;
          const b = y(e) as Decimal;
          if (b.isZero()) throw new ExprError('decimal division by 0', pos, src, 'EXPR_EVAL');
          const r = decimalDiv(a, b);
          return round ? roundDecimal2(r) : r;
        };
      }
      if (round) return (e) => decimalArith(op, x(e) as Decimal, y(e) as Decimal, true);
      if (op === '+') return (e) => (x(e) as Decimal).plus(y(e) as Decimal);
      if (op === '-') return (e) => (x(e) as Decimal).minus(y(e) as Decimal);
      return (e) => (x(e) as Decimal).times(y(e) as Decimal);
  }
}
