import { compileExpression, ExprError, type Env, type Scope } from '../../../src/expr/index.js';
import { Decimal, decimalToGoString, type Value } from '../../../src/values/index.js';

const scope: Scope = {
  vars: {
    r: { id: 'string' },
    l: { i: 'int', f: 'float', d: 'decimal2', s: 'string', ok: 'bool' },
  },
  aggregates: true,
  decimalRounding: true,
};

const rows: Env[] = [
  { r: { id: 'a' }, l: { i: 5n, f: 1.5, d: new Decimal('10.10'), s: 'pear', ok: true } },
  { r: { id: 'a' }, l: { i: -2n, f: -0.5, d: new Decimal('0.01'), s: '', ok: false } },
  { r: { id: 'a' }, l: { i: 4n, f: 2, d: new Decimal('3.335'), s: 'apple', ok: true } },
];

function show(v: Value): string {
  if (v instanceof Decimal) return `decimal ${decimalToGoString(v)}`;
  return `${typeof v} ${String(v)}`;
}

function aggregate(src: string, input: readonly Env[] = rows): { value: string; count: number } {
  const c = compileExpression(src, scope);
  if (c.aggregate === undefined) throw new Error(`${src} is not an aggregate`);
  const acc = c.aggregate.newAccumulator();
  for (const env of input) acc.add(env);
  return { value: show(acc.result()), count: acc.count };
}

describe('aggregates over a group', () => {
  it.each([
    ['count()', 'bigint 3', 3],
    ['count_if(l.ok)', 'bigint 2', 2],
    ['sum(l.i)', 'bigint 7', 3],
    ['sum(l.f)', 'number 3', 3],
    ['sum(l.d)', 'decimal 13.445', 3],
    ['sum_if(l.d, l.ok)', 'decimal 13.435', 2],
    ['sum(l.d * 2)', 'decimal 26.89', 3],
    ['avg(l.i)', 'bigint 2', 3],
    ['avg(l.f)', 'number 1', 3],
    ['avg(l.d)', 'decimal 4.48', 3],
    ['avg_if(l.i, l.i < 0)', 'bigint -2', 1],
    ['min(l.i)', 'bigint -2', 3],
    ['max(l.f)', 'number 2', 3],
    ['min(l.d)', 'decimal 0.01', 3],
    ['max(l.d)', 'decimal 10.1', 3],
    ['min(l.s)', 'string apple', 3],
    ['max(l.s)', 'string pear', 3],
    ['min_if(l.i, l.ok)', 'bigint 4', 2],
    ['string_agg(l.s, ",")', 'string pear,,apple', 3],
    ['string_agg_if(l.s, "|", l.ok)', 'string pear|apple', 2],
    ['(sum(l.i))', 'bigint 7', 3],
  ])('%s → %s', (src, want, count) => {
    expect(aggregate(src)).toEqual({ value: want, count });
  });

  it('avg over ints is floor division of the exact sum', () => {
    const neg = [-7n, 0n].map((i) => ({
      r: { id: 'a' },
      l: { i, f: 0, d: new Decimal(0), s: '', ok: true },
    }));
    expect(aggregate('avg(l.i)', neg).value).toBe('bigint -4');
    const big = [9223372036854775807n, 9223372036854775807n].map((i) => ({
      r: { id: 'a' },
      l: { i, f: 0, d: new Decimal(0), s: '', ok: true },
    }));
    expect(aggregate('avg(l.i)', big).value).toBe('bigint 9223372036854775807');
    expect(aggregate('sum(l.i)', big).value).toBe('bigint -2');
  });

  it.each([
    ['count()', 'bigint 0'],
    ['sum(l.d)', 'decimal 0'],
    ['avg(l.i)', 'bigint 0'],
    ['avg(l.d)', 'decimal 0'],
    ['min(l.i)', 'bigint 9223372036854775807'],
    ['max(l.i)', 'bigint -9223372036854775808'],
    ['min(l.f)', 'number 1.7976931348623157e+308'],
    ['max(l.f)', 'number -3.4028234663852886e+38'],
    ['min(l.d)', 'decimal 340282346638528860000000000000000000000'],
    ['max(l.d)', 'decimal -340282346638528860000000000000000000000'],
    ['min(l.s)', 'string '],
    ['string_agg(l.s, ",")', 'string '],
  ])('empty group: %s → %s (Capillaries seeds)', (src, want) => {
    expect(aggregate(src, [])).toEqual({ value: want, count: 0 });
  });

  it('min_if/max_if leak their seeds when nothing matches', () => {
    expect(aggregate('min_if(l.i, l.i > 100)').value).toBe('bigint 9223372036854775807');
    expect(aggregate('max_if(l.d, false)').value).toBe('decimal -340282346638528860000000000000000000000');
  });

  it('describes the aggregate and refuses direct evaluation', () => {
    const c = compileExpression('sum(l.d)', scope);
    expect(c.type).toBe('decimal2');
    expect(c.aggregate?.fn).toBe('sum');
    expect(c.fields).toEqual([{ alias: 'l', field: 'd' }]);
    expect(() => c.eval(rows[0] as Env)).toThrow(ExprError);
  });

  it.each([
    ['sum(l.i) * 2', 'aggregate function sum() must be the whole expression'],
    ['string(count())', 'aggregate function count() must be the whole expression'],
    ['sum(sum(l.i))', 'aggregate function sum() must be the whole expression'],
    ['sum(l.s)', 'sum needs an int, float or decimal2 value, got string'],
    ['sum(len(l.s))', 'sum needs an int, float or decimal2 value, got Go int'],
    ['min(l.ok)', 'min needs an int, float, decimal2 or string value, got bool'],
    ['count(l.i)', 'count takes 0 arguments: count()'],
    ['sum_if(l.i)', 'sum_if takes 2 arguments: sum_if(x, condition)'],
    ['count_if(l.i)', 'the condition of count_if must be bool, got int'],
    ['string_agg(l.s, `,`)', 'the separator of string_agg must be a string literal in double quotes'],
    ['string_agg(l.s, l.s)', 'the separator of string_agg must be a string literal in double quotes'],
  ])('rejects %s', (src, msg) => {
    expect(() => compileExpression(src, scope)).toThrow(msg);
  });
});
