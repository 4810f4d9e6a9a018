/**
 * Expression benchmark: evaluations per second of typical field expressions, compiled to closures vs the
 * tree-walking interpreter over the same checked tree, in the same run. Prints the ratio per expression.
 *
 *   npm run bench -- expr [--seconds 2]   (time per expression and variant, in 3 alternating rounds)
 */
import { compileExpression, interpretExpression, type Env, type Scope } from '../src/expr/index.js';
import { DateTime, type Value } from '../src/values/index.js';

const scope: Scope = {
  vars: { r: { price: 'float', qty: 'int', name: 'string', ts: 'datetime', amount: 'decimal2' } },
  decimalRounding: true,
};

const EXPRESSIONS = [
  'decimal2(r.price) * decimal2(r.qty) + decimal2(1.5)',
  'r.amount * decimal2(1.1) - r.amount / decimal2(3)',
  'fmt.Sprintf("%s-%05d %.2f", r.name, r.qty, r.price)',
  'time.Format(r.ts, "2006-01-02 15:04:05")',
  'r.qty > 10 && r.name != "x" || r.price * 2.0 < 100.0',
];

function rows(n: number): Env[] {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  return Array.from({ length: n }, (_, i) => {
    const price = Math.round(rnd() * 100000) / 100;
    return {
      r: {
        price,
        qty: BigInt(Math.floor(rnd() * 50)),
        name: `item-${i}`,
        ts: new DateTime(1.5e12 + Math.floor(rnd() * 1e11)),
        amount: compileExpression('decimal2(r.price)', { vars: { r: { price: 'float' } } }).eval({
          r: { price },
        }) as Value,
      },
    } as Env;
  });
}

function measure(fn: (env: Env) => Value, data: readonly Env[], seconds: number): number {
  // warm-up
  for (let i = 0; i < 20000; i++) fn(data[i % data.length] as Env);
  let n = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < limit) {
    for (let i = 0; i < data.length; i++) fn(data[i] as Env);
    n += data.length;
    elapsed = process.hrtime.bigint() - start;
  }
  return n / (Number(elapsed) / 1e9);
}

export function runExprBench(args: readonly string[]): void {
  const i = args.indexOf('--seconds');
  const seconds = i >= 0 ? Number(args[i + 1]) : 2;
  const data = rows(1000);
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US').padStart(12);
  process.stdout.write(
    `expression benchmark: ${seconds}s per expression and variant (best of 3 rounds), ${data.length} rows, Node ${process.version}\n\n`,
  );
  process.stdout.write(`${'compiled/s'.padStart(12)} ${'interpreted/s'.padStart(14)}  ratio  expression\n`);
  for (const src of EXPRESSIONS) {
    const compiled = compileExpression(src, scope);
    const interpreted = interpretExpression(src, scope);
    // Same results first, then speed.
    for (const env of data.slice(0, 50)) {
      const a = compiled.eval(env);
      const b = interpreted(env);
      if (String(a) !== String(b)) throw new Error(`results differ for ${src}: ${String(a)} vs ${String(b)}`);
    }
    // Alternate the two a few times and keep each one's best round (the machine may be busy).
    let c = 0;
    let t = 0;
    for (let round = 0; round < 3; round++) {
      c = Math.max(
        c,
        measure((env) => compiled.eval(env), data, seconds / 3),
      );
      t = Math.max(t, measure(interpreted, data, seconds / 3));
    }
    process.stdout.write(`${fmt(c)} ${fmt(t).padStart(14)}  ${(c / t).toFixed(2).padStart(5)}x  ${src}\n`);
  }
}
