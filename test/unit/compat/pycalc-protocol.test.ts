import { buildPythonProgram } from '../../../src/engine/index.js';
import { loadScript, type CustomTfmTableNode, type PyCalcDef } from '../../../src/script/index.js';
import { DateTime, Decimal } from '../../../src/values/index.js';

const PY = 'def g(a):\n    return a * 2\n\ndef f(x, n):\n    return x + n\n';

const SCRIPT = JSON.stringify({
  nodes: {
    read: {
      type: 'file_table',
      r: {
        urls: ['/in/a.csv'],
        csv: { hdr_line_idx: 0, first_data_line_idx: 1 },
        columns: {
          c_i: { csv: { col_hdr: 'i' }, col_type: 'int' },
          c_a: { csv: { col_hdr: 'a' }, col_type: 'float' },
          c_s: { csv: { col_hdr: 's' }, col_type: 'string' },
          c_b: { csv: { col_hdr: 'b' }, col_type: 'bool' },
          c_d: { csv: { col_hdr: 'd' }, col_type: 'decimal2' },
          c_t: { csv: { col_hdr: 't', col_format: '2006-01-02' }, col_type: 'datetime' },
        },
      },
      w: {
        name: 'items',
        fields: {
          i: { expression: 'r.c_i', type: 'int' },
          a: { expression: 'r.c_a', type: 'float' },
          s: { expression: 'r.c_s', type: 'string' },
          b: { expression: 'r.c_b', type: 'bool' },
          d: { expression: 'r.c_d', type: 'decimal2' },
          t: { expression: 'r.c_t', type: 'datetime' },
        },
      },
    },
    calc: {
      type: 'table_custom_tfm_table',
      custom_proc_type: 'py_calc',
      r: { table: 'items' },
      p: {
        python_code_urls: ['/cfg/calc.py'],
        calculated_fields: {
          y: { expression: 'f(p.x, r.i)', type: 'float' },
          x: { expression: 'g(r.a)', type: 'float' },
          z: { expression: 'str(r.s)', type: 'string' },
          k: { expression: 'f(r.d, len(r.s))', type: 'decimal2' },
          w: { expression: 'r.t', type: 'datetime' },
          v: { expression: 'bool(r.b)', type: 'bool' },
        },
      },
      w: {
        name: 'calc',
        fields: {
          y: { expression: 'p.y', type: 'float' },
          z: { expression: 'p.z', type: 'string' },
          k: { expression: 'p.k', type: 'decimal2' },
          w: { expression: 'p.w', type: 'datetime' },
          v: { expression: 'p.v', type: 'bool' },
        },
      },
    },
  },
  dependency_policies: {
    p: {
      is_default: true,
      event_priority_order: 'run_is_current(desc), run_id(desc)',
      rules: [{ cmd: 'go', expression: 'nrs.node_status == wfmodel.NodeBatchSuccess' }],
    },
  },
});

async function pyDef(): Promise<PyCalcDef> {
  const script = await loadScript({
    scriptUrl: '/cfg/script.json',
    readText: async (url) => (url.endsWith('.py') ? PY : SCRIPT),
  });
  const node = script.nodes.get('calc') as CustomTfmTableNode;
  return node.p as PyCalcDef;
}

/** The generated program against the protocol of §1.13, line by line. */
describe('py_calc protocol (§1.13)', () => {
  test('markers, r_/p_ names, calculation order, literal encodings', async () => {
    const def = await pyDef();
    const row = {
      i: -3n,
      a: 1.23456789,
      s: "it's",
      b: false,
      d: new Decimal('12.50'),
      t: new DateTime(Date.UTC(2023, 0, 2)),
    };
    const lines = buildPythonProgram(def, [row]).split('\n');
    expect(lines.slice(0, 3)).toEqual(['import traceback', 'import json', 'print("--FMDEF")']);
    expect(lines.slice(3, 3 + PY.split('\n').length - 1)).toEqual(PY.split('\n').slice(0, -1));
    const rest = lines.slice(lines.indexOf('print("--FMINIT:0")') - 1).filter((l) => l !== '');
    const assigns = rest.filter((l) => /^ {2}r_/.test(l)).sort();
    expect(assigns).toEqual(
      [
        '  r_a = 1.234568', // floats with 6 decimals (precision loss, as Capillaries)
        '  r_b = False', // Capillaries writes FALSE (a NameError in Python): a documented difference
        '  r_d = 12.5', // decimal2: shortest decimal text
        '  r_i = -3',
        "  r_s = 'it\\'s'",
        '  r_t = "2023-01-02T00:00:00.000+00:00"',
      ].sort(),
    );
    const calc = rest.filter((l) => /^ {2}p_/.test(l));
    expect(calc.indexOf('  p_x = g(r_a)')).toBeLessThan(calc.indexOf('  p_y = f(p_x, r_i)')); // p.y needs p.x
    expect(calc).toEqual(
      expect.arrayContaining([
        '  p_z = str(r_s)',
        '  p_k = f(r_d, len(r_s))',
        '  p_w = r_t',
        '  p_v = bool(r_b)',
      ]),
    );
    const markers = rest.filter((l) => l.includes('--FM') || l === 'try:' || l === 'except:');
    expect(markers).toEqual([
      'print("--FMINIT:0")',
      'try:',
      '  print("--FMCALC:0")',
      '  print("--FMOK:0")',
      'except:',
      'print("--FMEND:0")',
    ]);
    expect(rest).toContain('  print(traceback.format_exc())');
    expect(rest.find((l) => l.includes('json.dumps'))).toMatch(
      /^ {2}print\(json\.dumps\(\{.*"y":p_y.*\}\)\)$/,
    );
    expect(lines[lines.indexOf('print("--FMINIT:0")') - 1]).toBe('print("")');
  });
});
