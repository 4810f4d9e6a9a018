import { findPythonDefs, parsePyExpr, toPython } from '../../../src/script/pycalc.js';

describe('py_calc expressions', () => {
  it('parses calls and field references and rewrites them to Python', () => {
    const src = 'increase_by_percent(r.price, p.rate, "a.b", 1.5, -2, True)';
    const e = parsePyExpr(src);
    expect(e.kind).toBe('call');
    expect(toPython(src, e)).toBe('increase_by_percent(r_price, p_rate, "a.b", 1.5, -2, True)');
    expect(toPython('r.x', parsePyExpr('r.x'))).toBe('r_x');
    expect(toPython(' f(g(p.a), `r.raw`) ', parsePyExpr(' f(g(p.a), `r.raw`) '))).toBe('f(g(p_a), `r.raw`)');
  });

  it('rejects other shapes with a position', () => {
    expect(() => parsePyExpr('r.a + 1')).toThrow(/unexpected "\+"/);
    expect(() => parsePyExpr('42')).toThrow(/a py_calc expression is a call/);
    expect(() => parsePyExpr('f(r.a')).toThrow(/missing \) in call of f/);
    expect(() => parsePyExpr('math.floor(r.a)')).toThrow(/only plain function names/);
  });

  it('finds def lines with their argument counts', () => {
    const code = [
      'def a(x, y):',
      '    return x',
      'class K:',
      '    def m(self, v, w=2):',
      '        pass',
      'def v(first, *rest, **kw): pass',
      'def multi(a,',
      '          b: dict[str, int] = {}):',
      '    pass',
    ].join('\n');
    const d = findPythonDefs(code);
    expect(d.get('a')).toEqual({ name: 'a', required: 2, max: 2 });
    expect(d.get('m')).toEqual({ name: 'm', required: 1, max: 2 });
    expect(d.get('v')).toEqual({ name: 'v', required: 1, max: Infinity });
    expect(d.get('multi')).toEqual({ name: 'multi', required: 1, max: 2 });
  });
});
