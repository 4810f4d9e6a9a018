import { RE2JS } from 're2js';
import {
  DateTime,
  Decimal,
  GoInt,
  GoLocation,
  GoMonth,
  decimalFromFloat,
  decimalFromInt,
  decimalToGoString,
  decimalToInt64,
  floatToInt64,
  goMonthName,
  goRound,
  goSprintf,
  goTimeDate,
  goTimeFormat,
  goTimeParse,
  goTimeString,
  LONG_MONTH_NAMES,
  parseGoDecimal,
  parseGoFloat,
  parseGoInt,
  shortestFloatString,
  ValueRangeError,
  type FmtArg,
} from '../values/index.js';
import type { TNode } from './typed.js';
import type { ExprType, Rt } from './types.js';

export interface Resolved {
  readonly type: ExprType;
  readonly impl: (args: readonly Rt[]) => Rt;
  readonly pure: boolean;
}

/** Reports a type error at an argument (index) or at the call (-1). */
export type ArgFail = (message: string, argIndex: number) => never;

interface BuiltinDef {
  /** human signature for messages */
  readonly signature: string;
  resolve(args: readonly TNode[], fail: ArgFail): Resolved;
}

const NUMERIC: ReadonlySet<ExprType> = new Set(['int', 'goint', 'float', 'decimal2']);

function isIntLike(t: ExprType): boolean {
  return t === 'int' || t === 'goint';
}

function arity(args: readonly TNode[], n: number, sig: string, fail: ArgFail): void {
  if (args.length !== n) fail(`${sig} takes ${n} argument${n === 1 ? '' : 's'}, got ${args.length}`, -1);
}

function expect(
  args: readonly TNode[],
  i: number,
  want: ExprType | 'number' | 'intlike',
  sig: string,
  fail: ArgFail,
): void {
  const t = (args[i] as TNode).type;
  const ok = want === 'number' ? NUMERIC.has(t) : want === 'intlike' ? isIntLike(t) : t === want;
  if (!ok)
    fail(`argument ${i + 1} of ${sig} must be ${want === 'intlike' ? 'int' : want}, got ${typeName(t)}`, i);
}

export function typeName(t: ExprType): string {
  switch (t) {
    case 'goint':
      return 'Go int (from len(); use len(x)+0 for an int64)';
    case 'month':
      return 'time.Month';
    case 'location':
      return '*time.Location';
    default:
      return t;
  }
}

/** Go's %v of a runtime value of a static type (string(x)). */
export function toGoString(t: ExprType): (v: Rt) => string {
  switch (t) {
    case 'int':
    case 'goint':
      return (v) => (v as bigint).toString();
    case 'float':
      return (v) => shortestFloatString(v as number);
    case 'decimal2':
      return (v) => decimalToGoString(v as Decimal);
    case 'string':
      return (v) => v as string;
    case 'bool':
      return (v) => ((v as boolean) ? 'true' : 'false');
    case 'datetime':
      return (v) => goTimeString(v as DateTime);
    case 'month':
      return (v) => goMonthName(v as number);
    case 'location':
      return (v) => (v as GoLocation).name;
  }
}

/** A runtime value as goSprintf wants it (Go-only types wrapped so %v/%T print them as Go would). */
export function toFmtArg(t: ExprType): (v: Rt) => FmtArg {
  switch (t) {
    case 'goint':
      return (v) => new GoInt(v as bigint);
    case 'month':
      return (v) => new GoMonth(v as number);
    default:
      return (v) => v as FmtArg;
  }
}

export function toFloat(t: ExprType): (v: Rt) => number {
  switch (t) {
    case 'int':
    case 'goint':
      return (v) => Number(v as bigint);
    case 'decimal2':
      return (v) => (v as Decimal).toNumber();
    default:
      return (v) => v as number;
  }
}

function toSafeNumber(v: Rt, what: string): number {
  const n = Number(v as bigint);
  if (!Number.isSafeInteger(n)) throw new ValueRangeError(`${what} ${String(v)} is out of range`);
  return n;
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function iif(t: ExprType, sig: string): BuiltinDef {
  return {
    signature: sig,
    resolve(args, fail) {
      arity(args, 3, sig, fail);
      expect(args, 0, 'bool', sig, fail);
      expect(args, 1, t, sig, fail);
      expect(args, 2, t, sig, fail);
      return { type: t, pure: true, impl: (a) => ((a[0] as boolean) ? (a[1] as Rt) : (a[2] as Rt)) };
    },
  };
}

const regexCache = new Map<string, RE2JS>();

/** Compile a Go (RE2) regular expression; re2js follows Go's regexp syntax and matching. */
export function compileRegex(pattern: string): RE2JS {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try {
      re = RE2JS.compile(pattern);
    } catch (e) {
      throw new ValueRangeError(
        `invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`,
      );
    }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

function replaceAll(s: string, old: string, repl: string): string {
  if (old !== '') return s.split(old).join(repl);
  // Go inserts the replacement before every rune and at the end.
  if (s === '') return repl;
  return repl + Array.from(s).join(repl) + repl;
}

export const BUILTINS: ReadonlyMap<string, BuiltinDef> = new Map<string, BuiltinDef>([
  [
    'len',
    {
      signature: 'len(string)',
      resolve(args, fail) {
        arity(args, 1, 'len', fail);
        expect(args, 0, 'string', 'len', fail);
        return { type: 'goint', pure: true, impl: (a) => BigInt(utf8Length(a[0] as string)) };
      },
    },
  ],
  [
    'string',
    {
      signature: 'string(any)',
      resolve(args, fail) {
        arity(args, 1, 'string', fail);
        const f = toGoString((args[0] as TNode).type);
        return { type: 'string', pure: true, impl: (a) => f(a[0] as Rt) };
      },
    },
  ],
  [
    'int',
    {
      signature: 'int(string|bool|int|float|decimal2)',
      resolve(args, fail) {
        arity(args, 1, 'int', fail);
        const t = (args[0] as TNode).type;
        let impl: (a: readonly Rt[]) => Rt;
        if (t === 'string') impl = (a) => parseGoInt(a[0] as string);
        else if (t === 'bool') impl = (a) => ((a[0] as boolean) ? 1n : 0n);
        else if (isIntLike(t)) impl = (a) => a[0] as bigint;
        else if (t === 'float') impl = (a) => floatToInt64(a[0] as number);
        else if (t === 'decimal2') impl = (a) => decimalToInt64(a[0] as Decimal);
        else return fail(`int() cannot convert ${typeName(t)}`, 0);
        return { type: 'int', pure: true, impl };
      },
    },
  ],
  [
    'float',
    {
      signature: 'float(string|bool|int|float|decimal2)',
      resolve(args, fail) {
        arity(args, 1, 'float', fail);
        const t = (args[0] as TNode).type;
        let impl: (a: readonly Rt[]) => Rt;
        if (t === 'string') impl = (a) => parseGoFloat(a[0] as string);
        else if (t === 'bool') impl = (a) => ((a[0] as boolean) ? 1 : 0);
        else if (NUMERIC.has(t)) {
          const f = toFloat(t);
          impl = (a) => f(a[0] as Rt);
        } else return fail(`float() cannot convert ${typeName(t)}`, 0);
        return { type: 'float', pure: true, impl };
      },
    },
  ],
  [
    'decimal2',
    {
      signature: 'decimal2(string|bool|int|float|decimal2)',
      resolve(args, fail) {
        arity(args, 1, 'decimal2', fail);
        const t = (args[0] as TNode).type;
        let impl: (a: readonly Rt[]) => Rt;
        if (t === 'string') impl = (a) => parseGoDecimal(a[0] as string);
        else if (t === 'bool') impl = (a) => new Decimal((a[0] as boolean) ? 1 : 0);
        else if (isIntLike(t)) impl = (a) => decimalFromInt(a[0] as bigint);
        else if (t === 'float') impl = (a) => decimalFromFloat(a[0] as number);
        else if (t === 'decimal2') impl = (a) => a[0] as Decimal;
        else return fail(`decimal2() cannot convert ${typeName(t)}`, 0);
        return { type: 'decimal2', pure: true, impl };
      },
    },
  ],
  ['int.iif', iif('int', 'int.iif(bool, int, int)')],
  ['float.iif', iif('float', 'float.iif(bool, float, float)')],
  ['decimal2.iif', iif('decimal2', 'decimal2.iif(bool, decimal2, decimal2)')],
  ['string.iif', iif('string', 'string.iif(bool, string, string)')],
  ['time.iif', iif('datetime', 'time.iif(bool, datetime, datetime)')],
  [
    'math.Sqrt',
    {
      signature: 'math.Sqrt(number)',
      resolve(args, fail) {
        arity(args, 1, 'math.Sqrt', fail);
        expect(args, 0, 'number', 'math.Sqrt', fail);
        const f = toFloat((args[0] as TNode).type);
        return { type: 'float', pure: true, impl: (a) => Math.sqrt(f(a[0] as Rt)) };
      },
    },
  ],
  [
    'math.Round',
    {
      signature: 'math.Round(number)',
      resolve(args, fail) {
        arity(args, 1, 'math.Round', fail);
        expect(args, 0, 'number', 'math.Round', fail);
        const f = toFloat((args[0] as TNode).type);
        return { type: 'float', pure: true, impl: (a) => goRound(f(a[0] as Rt)) };
      },
    },
  ],
  [
    'time.Parse',
    {
      signature: 'time.Parse(layout string, value string)',
      resolve(args, fail) {
        arity(args, 2, 'time.Parse', fail);
        expect(args, 0, 'string', 'time.Parse', fail);
        expect(args, 1, 'string', 'time.Parse', fail);
        return { type: 'datetime', pure: true, impl: (a) => goTimeParse(a[0] as string, a[1] as string) };
      },
    },
  ],
  [
    'time.Format',
    {
      signature: 'time.Format(t datetime, layout string)',
      resolve(args, fail) {
        arity(args, 2, 'time.Format', fail);
        expect(args, 0, 'datetime', 'time.Format', fail);
        expect(args, 1, 'string', 'time.Format', fail);
        return { type: 'string', pure: true, impl: (a) => goTimeFormat(a[0] as DateTime, a[1] as string) };
      },
    },
  ],
  [
    'time.Date',
    {
      signature: 'time.Date(year int, month time.Month, day, hour, min, sec, nsec int, loc *time.Location)',
      resolve(args, fail) {
        const sig = 'time.Date';
        arity(args, 8, sig, fail);
        expect(args, 0, 'intlike', sig, fail);
        if ((args[1] as TNode).type !== 'month')
          fail('argument 2 of time.Date must be a month: time.January .. time.December', 1);
        for (let i = 2; i < 7; i++) expect(args, i, 'intlike', sig, fail);
        expect(args, 7, 'location', sig, fail);
        return {
          type: 'datetime',
          pure: true,
          impl: (a) =>
            goTimeDate(
              toSafeNumber(a[0] as Rt, 'year'),
              a[1] as number,
              toSafeNumber(a[2] as Rt, 'day'),
              toSafeNumber(a[3] as Rt, 'hour'),
              toSafeNumber(a[4] as Rt, 'minute'),
              toSafeNumber(a[5] as Rt, 'second'),
              toSafeNumber(a[6] as Rt, 'nanosecond'),
              a[7] as GoLocation,
            ),
        };
      },
    },
  ],
  [
    'time.FixedZone',
    {
      signature: 'time.FixedZone(name string, offsetSeconds int)',
      resolve(args, fail) {
        arity(args, 2, 'time.FixedZone', fail);
        expect(args, 0, 'string', 'time.FixedZone', fail);
        expect(args, 1, 'intlike', 'time.FixedZone', fail);
        return {
          type: 'location',
          pure: true,
          impl: (a) => new GoLocation(a[0] as string, Number(BigInt.asIntN(32, a[1] as bigint))),
        };
      },
    },
  ],
  [
    'time.Now',
    {
      signature: 'time.Now()',
      resolve(args, fail) {
        arity(args, 0, 'time.Now', fail);
        return { type: 'datetime', pure: false, impl: () => new DateTime(Date.now()) };
      },
    },
  ],
  [
    'time.Unix',
    {
      signature: 'time.Unix(t datetime)',
      resolve(args, fail) {
        arity(args, 1, 'time.Unix', fail);
        expect(args, 0, 'datetime', 'time.Unix', fail);
        return {
          type: 'int',
          pure: true,
          impl: (a) => BigInt(Math.floor((a[0] as DateTime).epochMs / 1000)),
        };
      },
    },
  ],
  [
    'time.UnixMilli',
    {
      signature: 'time.UnixMilli(t datetime)',
      resolve(args, fail) {
        arity(args, 1, 'time.UnixMilli', fail);
        expect(args, 0, 'datetime', 'time.UnixMilli', fail);
        return { type: 'int', pure: true, impl: (a) => BigInt((a[0] as DateTime).epochMs) };
      },
    },
  ],
  [
    'time.DiffMilli',
    {
      signature: 'time.DiffMilli(a datetime, b datetime)',
      resolve(args, fail) {
        arity(args, 2, 'time.DiffMilli', fail);
        expect(args, 0, 'datetime', 'time.DiffMilli', fail);
        expect(args, 1, 'datetime', 'time.DiffMilli', fail);
        return {
          type: 'int',
          pure: true,
          impl: (a) => BigInt((a[0] as DateTime).epochMs - (a[1] as DateTime).epochMs),
        };
      },
    },
  ],
  [
    'time.Before',
    {
      signature: 'time.Before(a datetime, b datetime)',
      resolve(args, fail) {
        arity(args, 2, 'time.Before', fail);
        expect(args, 0, 'datetime', 'time.Before', fail);
        expect(args, 1, 'datetime', 'time.Before', fail);
        return {
          type: 'bool',
          pure: true,
          impl: (a) => (a[0] as DateTime).epochMs < (a[1] as DateTime).epochMs,
        };
      },
    },
  ],
  [
    'time.After',
    {
      signature: 'time.After(a datetime, b datetime)',
      resolve(args, fail) {
        arity(args, 2, 'time.After', fail);
        expect(args, 0, 'datetime', 'time.After', fail);
        expect(args, 1, 'datetime', 'time.After', fail);
        return {
          type: 'bool',
          pure: true,
          impl: (a) => (a[0] as DateTime).epochMs > (a[1] as DateTime).epochMs,
        };
      },
    },
  ],
  [
    're.MatchString',
    {
      signature: 're.MatchString(pattern string, s string)',
      resolve(args, fail) {
        arity(args, 2, 're.MatchString', fail);
        expect(args, 0, 'string', 're.MatchString', fail);
        expect(args, 1, 'string', 're.MatchString', fail);
        const p = args[0] as TNode;
        if (p.k === 'const') {
          let re: RE2JS;
          try {
            re = compileRegex(p.value as string);
          } catch (e) {
            return fail((e as Error).message, 0);
          }
          return { type: 'bool', pure: true, impl: (a) => re.test(a[1] as string) };
        }
        return { type: 'bool', pure: true, impl: (a) => compileRegex(a[0] as string).test(a[1] as string) };
      },
    },
  ],
  [
    'strings.ReplaceAll',
    {
      signature: 'strings.ReplaceAll(s, old, new string)',
      resolve(args, fail) {
        arity(args, 3, 'strings.ReplaceAll', fail);
        for (let i = 0; i < 3; i++) expect(args, i, 'string', 'strings.ReplaceAll', fail);
        return {
          type: 'string',
          pure: true,
          impl: (a) => replaceAll(a[0] as string, a[1] as string, a[2] as string),
        };
      },
    },
  ],
  [
    'fmt.Sprintf',
    {
      signature: 'fmt.Sprintf(format string, args...)',
      resolve(args, fail) {
        if (args.length < 2) fail('fmt.Sprintf needs a format and at least one argument', -1);
        expect(args, 0, 'string', 'fmt.Sprintf', fail);
        const conv = args.slice(1).map((a) => toFmtArg(a.type));
        return {
          type: 'string',
          pure: true,
          impl: (a) => {
            const fa: FmtArg[] = new Array<FmtArg>(conv.length);
            for (let i = 0; i < conv.length; i++) fa[i] = (conv[i] as (v: Rt) => FmtArg)(a[i + 1] as Rt);
            return goSprintf(a[0] as string, fa);
          },
        };
      },
    },
  ],
]);

/** Module-level constants: time.UTC, time.January .. time.December. */
export function moduleConstant(pkg: string, name: string): { type: ExprType; value: Rt } | undefined {
  if (pkg !== 'time') return undefined;
  if (name === 'UTC') return { type: 'location', value: GoLocation.UTC };
  const m = LONG_MONTH_NAMES.indexOf(name);
  return m >= 0 ? { type: 'month', value: m + 1 } : undefined;
}

export const MODULE_NAMES: readonly string[] = [
  'time',
  'math',
  're',
  'strings',
  'fmt',
  'int',
  'float',
  'decimal2',
  'string',
];

export const AGGREGATE_NAMES: ReadonlySet<string> = new Set([
  'count',
  'count_if',
  'sum',
  'sum_if',
  'avg',
  'avg_if',
  'min',
  'min_if',
  'max',
  'max_if',
  'string_agg',
  'string_agg_if',
]);
