import {
  decimalDiv,
  decimalFromFloat,
  DECIMAL_ZERO,
  INT64_MAX,
  INT64_MIN,
  roundDecimal2,
  type Decimal,
  type Value,
} from '../values/index.js';
import type { Call, ExprNode } from './ast.js';
import { typeName } from './builtins.js';
import type { Checker } from './checker.js';
import { compileTree, type Fn } from './compile.js';
import { ExprError } from './errors.js';
import { compareUtf8 } from './ops.js';
import type { TNode } from './typed.js';
import type { Accumulator, AggregateSpec, Env, ExprType } from './types.js';

/** math.MaxFloat32 as a float64, the seed Capillaries uses for float max and decimal min/max. */
const MAX_FLOAT32 = 3.4028234663852886e38;

interface AggregateCompiled {
  spec: AggregateSpec;
  type: ExprType;
}

/**
 * Aggregates of grouped lookups (§2.6): count, sum, avg, min, max, string_agg and their _if variants.
 * Exact Capillaries semantics, including its quirks: avg over ints is integer (floor) division of the
 * exact sum; min skips empty strings; min/max start from a seed (int ±MaxInt64, float MaxFloat64 /
 * −MaxFloat32, decimal ±MaxFloat32, string ""), which is the result when nothing was applied.
 */
export function compileAggregate(call: Call, name: string, checker: Checker, src: string): AggregateCompiled {
  const fail = (msg: string, pos = call.pos): never => {
    throw new ExprError(msg, pos, src, 'EXPR_TYPE');
  };
  if (call.ellipsis) fail(`'...' arguments are not supported`);
  const isIf = name.endsWith('_if');
  const base = isIf ? name.slice(0, -3) : name;
  const want = (base === 'count' ? 0 : base === 'string_agg' ? 2 : 1) + (isIf ? 1 : 0);
  if (call.args.length !== want) {
    const usage: Record<string, string> = {
      count: 'count()',
      count_if: 'count_if(condition)',
      sum: 'sum(x)',
      sum_if: 'sum_if(x, condition)',
      avg: 'avg(x)',
      avg_if: 'avg_if(x, condition)',
      min: 'min(x)',
      min_if: 'min_if(x, condition)',
      max: 'max(x)',
      max_if: 'max_if(x, condition)',
      string_agg: 'string_agg(s, "separator")',
      string_agg_if: 'string_agg_if(s, "separator", condition)',
    };
    fail(`${name} takes ${want} argument${want === 1 ? '' : 's'}: ${usage[name] ?? name}`);
  }
  const args = call.args as readonly ExprNode[];
  let cond: Fn | undefined;
  if (isIf) {
    const c = args[args.length - 1] as ExprNode;
    const t = checker.check(c);
    if (t.type !== 'bool') fail(`the condition of ${name} must be bool, got ${typeName(t.type)}`, c.pos);
    cond = compileTree(t, src);
  }
  let value: TNode | undefined;
  let valueFn: Fn | undefined;
  if (base !== 'count') {
    const v = args[0] as ExprNode;
    value = checker.check(v);
    valueFn = compileTree(value, src);
  }
  const vt = value?.type;

  const make = (type: ExprType, factory: () => Accumulator): AggregateCompiled => ({
    type,
    spec: { fn: name, newAccumulator: factory },
  });

  switch (base) {
    case 'count':
      return make('int', () => new CountAcc(cond));
    case 'sum':
    case 'avg':
      if (vt !== 'int' && vt !== 'float' && vt !== 'decimal2') {
        return fail(
          `${name} needs an int, float or decimal2 value, got ${typeName(vt ?? 'int')}`,
          args[0]?.pos,
        );
      }
      return make(vt, () => new SumAcc(vt, base === 'avg', valueFn as Fn, cond));
    case 'min':
    case 'max':
      if (vt !== 'int' && vt !== 'float' && vt !== 'decimal2' && vt !== 'string') {
        return fail(
          `${name} needs an int, float, decimal2 or string value, got ${typeName(vt ?? 'int')}`,
          args[0]?.pos,
        );
      }
      return make(vt, () => new MinMaxAcc(vt, base === 'min', valueFn as Fn, cond));
    default: {
      if (vt !== 'string') fail(`${name} needs a string value, got ${typeName(vt ?? 'int')}`, args[0]?.pos);
      const sepNode = args[1] as ExprNode;
      if (sepNode.kind !== 'string' || sepNode.raw) {
        fail(`the separator of ${name} must be a string literal in double quotes, e.g. ","`, sepNode.pos);
      }
      const sep = sepNode.kind === 'string' ? sepNode.value : '';
      return make('string', () => new StringAggAcc(sep, valueFn as Fn, cond));
    }
  }
}

class CountAcc implements Accumulator {
  count = 0;
  constructor(private readonly cond: Fn | undefined) {}
  add(env: Env): void {
    if (this.cond === undefined || this.cond(env) === true) this.count++;
  }
  result(): Value {
    return BigInt(this.count);
  }
}

class SumAcc implements Accumulator {
  count = 0;
  private int = 0n;
  private float = 0;
  private dec: Decimal = DECIMAL_ZERO;
  constructor(
    private readonly type: 'int' | 'float' | 'decimal2',
    private readonly avg: boolean,
    private readonly value: Fn,
    private readonly cond: Fn | undefined,
  ) {}
  add(env: Env): void {
    const v = this.value(env);
    if (this.cond !== undefined && this.cond(env) !== true) return;
    this.count++;
    if (this.type === 'int') {
      // avg keeps the exact (big) sum; sum wraps like int64 addition
      this.int = this.avg ? this.int + (v as bigint) : BigInt.asIntN(64, this.int + (v as bigint));
    } else if (this.type === 'float') {
      this.float += v as number;
    } else {
      this.dec = this.dec.plus(v as Decimal);
    }
  }
  result(): Value {
    if (!this.avg) return this.type === 'int' ? this.int : this.type === 'float' ? this.float : this.dec;
    if (this.count === 0) return this.type === 'int' ? 0n : this.type === 'float' ? 0 : DECIMAL_ZERO;
    if (this.type === 'int') {
      const n = BigInt(this.count);
      let q = this.int / n;
      if (this.int % n !== 0n && this.int < 0n) q -= 1n; // big.Int.Div: Euclidean (floor for n > 0)
      return BigInt.asIntN(64, q);
    }
    if (this.type === 'float') return this.float / this.count;
    return roundDecimal2(decimalDiv(this.dec, decimalFromFloat(this.count)));
  }
}

class MinMaxAcc implements Accumulator {
  count = 0;
  private acc: Value;
  constructor(
    private readonly type: 'int' | 'float' | 'decimal2' | 'string',
    private readonly min: boolean,
    private readonly value: Fn,
    private readonly cond: Fn | undefined,
  ) {
    switch (type) {
      case 'int':
        this.acc = min ? INT64_MAX : INT64_MIN;
        break;
      case 'float':
        this.acc = min ? Number.MAX_VALUE : -MAX_FLOAT32;
        break;
      case 'decimal2':
        this.acc = decimalFromFloat(min ? MAX_FLOAT32 : -MAX_FLOAT32);
        break;
      default:
        this.acc = '';
    }
  }
  add(env: Env): void {
    const v = this.value(env);
    if (this.cond !== undefined && this.cond(env) !== true) return;
    this.count++;
    const a = this.acc;
    let better: boolean;
    switch (this.type) {
      case 'int':
        better = this.min ? (v as bigint) < (a as bigint) : (v as bigint) > (a as bigint);
        break;
      case 'float':
        better = this.min ? (v as number) < (a as number) : (v as number) > (a as number);
        break;
      case 'decimal2':
        better = this.min ? (v as Decimal).lt(a as Decimal) : (v as Decimal).gt(a as Decimal);
        break;
      default: {
        const s = v as string;
        if (this.min) better = s !== '' && (a === '' || compareUtf8(s, a as string) < 0);
        else better = compareUtf8(s, a as string) > 0;
      }
    }
    if (better) this.acc = v as Value;
  }
  result(): Value {
    return this.acc;
  }
}

class StringAggAcc implements Accumulator {
  count = 0;
  private parts: string[] = [];
  constructor(
    private readonly sep: string,
    private readonly value: Fn,
    private readonly cond: Fn | undefined,
  ) {}
  add(env: Env): void {
    const v = this.value(env) as string;
    if (this.cond !== undefined && this.cond(env) !== true) return;
    this.count++;
    this.parts.push(v);
  }
  result(): Value {
    return this.parts.join(this.sep);
  }
}
