import {
  buildPythonProgram,
  parsePythonOutput,
  pythonLiteral,
  pythonResultValue,
  tracebackLastLine,
} from '../../../src/engine/index.js';
import { runPython } from '../../../src/engine/py-calc.js';
import type { PyCalcDef } from '../../../src/script/index.js';
import { DateTime, Decimal } from '../../../src/values/index.js';

const def: PyCalcDef = {
  kind: 'py_calc',
  pythonCode:
    'def taxed(v, rate):\n  return v * (1 + rate)\n\ndef label(s, n):\n  return s.upper() + "-" + str(n)\n',
  pythonCodeUrls: ['calc.py'],
  calculatedFields: [
    {
      name: 'taxed',
      type: 'decimal2',
      expression: 'taxed(r.price, 0.1)',
      pythonExpression: 'taxed(r_price, 0.1)',
      dependsOn: [],
    },
    {
      name: 'ratio',
      type: 'float',
      expression: 'p.taxed / r.qty',
      pythonExpression: 'p_taxed / r_qty',
      dependsOn: ['taxed'],
    },
    {
      name: 'tag',
      type: 'string',
      expression: 'label(r.name, r.qty)',
      pythonExpression: 'label(r_name, r_qty)',
      dependsOn: [],
    },
    { name: 'when', type: 'datetime', expression: 'r.ts', pythonExpression: 'r_ts', dependsOn: [] },
    { name: 'big', type: 'bool', expression: 'r.flag', pythonExpression: 'r_flag', dependsOn: [] },
  ],
  usedReaderFields: ['price', 'qty', 'name', 'ts', 'flag'],
};

describe('py_calc literals', () => {
  test('encodes values the Capillaries way', () => {
    expect(pythonLiteral(42n)).toBe('42');
    expect(pythonLiteral(1.23456789)).toBe('1.234568');
    expect(pythonLiteral("it's")).toBe("'it\\'s'");
    expect(pythonLiteral(new Decimal('12.50'))).toBe('12.5');
    expect(pythonLiteral(true)).toBe('True');
    expect(pythonLiteral(new DateTime(Date.UTC(2020, 0, 2, 3, 4, 5, 6)))).toBe(
      '"2020-01-02T03:04:05.006+00:00"',
    );
  });

  test('converts results to the field type', () => {
    expect(pythonResultValue(3.9, 'int')).toBe(3n);
    expect((pythonResultValue(1.005, 'decimal2') as Decimal).toString()).toBe('1.01');
    expect(pythonResultValue('x', 'string')).toBe('x');
    expect(() => pythonResultValue('x', 'float')).toThrow(/expected a number/);
    expect((pythonResultValue('2020-01-02T03:04:05.000+00:00', 'datetime') as DateTime).epochMs).toBe(
      Date.UTC(2020, 0, 2, 3, 4, 5),
    );
  });
});

describe('py_calc program', () => {
  const rows = [
    { price: new Decimal('10'), qty: 4n, name: 'tea', ts: new DateTime(0), flag: true },
    { price: new Decimal('2.5'), qty: 0n, name: "o'neil", ts: new DateTime(1000), flag: false },
  ];

  test('runs in python3 and parses results and errors per row', async () => {
    const program = buildPythonProgram(def, rows);
    const res = await runPython(
      { interpreterPath: 'python3', interpreterParams: ['-u', '-'], timeoutMs: 20_000 },
      program,
    );
    expect(res.code).toBe(0);
    const out = parsePythonOutput(res.stdout, rows.length);
    expect(out[0]!.values).toEqual({
      taxed: 11,
      ratio: 2.75,
      tag: 'TEA-4',
      when: '1970-01-01T00:00:00.000+00:00',
      big: true,
    });
    expect(out[1]!.error).toBeDefined();
    expect(tracebackLastLine(out[1]!.error!)).toBe('ZeroDivisionError: float division by zero');
  });

  test('a missing interpreter is a clear error', async () => {
    await expect(
      runPython({ interpreterPath: '/nonexistent/python', interpreterParams: [], timeoutMs: 0 }, 'print(1)'),
    ).rejects.toThrow(/cannot start the Python interpreter \/nonexistent\/python/);
  });

  test('output without markers is rejected', () => {
    expect(() => parsePythonOutput('hello\n', 1)).toThrow(/did not start/);
  });
});

describe('py_calc with a large Python library', () => {
  // A price-provider-sized library (over 1 MB of code: a table of 40,000 daily prices and functions over it),
  // the way portfolio-style scripts ship theirs, run over a rowset of 1,000 rows.
  const days = 40_000;
  const table = Array.from({ length: days }, (_, d) => `  ${d}: ${((d % 997) + 100).toFixed(2)},`).join('\n');
  const library =
    `# generated price table\nPRICES = {\n${table}\n}\n\n` +
    Array.from(
      { length: 6_000 },
      (_, i) => `def helper_${i}(x):\n    """Scaled value ${i}."""\n    return x * ${i + 1} / ${i + 1}\n`,
    ).join('\n') +
    '\ndef price_on(day):\n    return PRICES[day % len(PRICES)]\n\ndef position_value(day, qty):\n    return price_on(day) * qty\n';
  const bigDef: PyCalcDef = {
    kind: 'py_calc',
    pythonCode: library,
    pythonCodeUrls: ['prices.py'],
    calculatedFields: [
      {
        name: 'value',
        type: 'float',
        expression: 'position_value(r.day, r.qty)',
        pythonExpression: 'helper_5999(position_value(r_day, r_qty))',
        dependsOn: [],
      },
    ],
    usedReaderFields: ['day', 'qty'],
  };

  test('runs the whole library once per rowset and gives every row its value', async () => {
    expect(library.length).toBeGreaterThan(1_000_000);
    const rows = Array.from({ length: 1_000 }, (_, i) => ({ day: BigInt(i * 37), qty: BigInt((i % 5) + 1) }));
    const res = await runPython(
      { interpreterPath: 'python3', interpreterParams: ['-u', '-'], timeoutMs: 120_000 },
      buildPythonProgram(bigDef, rows),
    );
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const out = parsePythonOutput(res.stdout, rows.length);
    expect(out).toHaveLength(1_000);
    out.forEach((o, i) => {
      const day = (i * 37) % days;
      expect(o.error).toBeUndefined();
      expect(o.values!.value).toBeCloseTo((((day % 997) + 100) * ((i % 5) + 1)) as number, 6);
    });
  });
});
