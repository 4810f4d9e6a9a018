import { Problems } from '../../../src/script/problems.js';
import { readScriptSource, type LoadOptions } from '../../../src/script/source.js';
import { formatNumberParam, normalizeReferences } from '../../../src/script/template.js';

function reader(files: Record<string, string>): LoadOptions['readText'] {
  return async (url: string) => {
    const t = files[url];
    if (t === undefined) throw new Error('no such file');
    return t;
  };
}

async function render(
  script: string,
  params: string | undefined,
  overrides?: Record<string, string>,
  scriptUrl = '/cfg/script.json',
): Promise<{ text?: string; data?: unknown; problems: string[]; warnings: string[]; params?: unknown }> {
  const files: Record<string, string> = { [scriptUrl]: script };
  if (params !== undefined) files['/cfg/params.json'] = params;
  const problems = new Problems();
  const opts: LoadOptions = { scriptUrl, readText: reader(files) };
  if (params !== undefined) opts.paramsUrl = '/cfg/params.json';
  if (overrides) opts.overrides = overrides;
  const src = await readScriptSource(opts, problems);
  const out: { text?: string; data?: unknown; problems: string[]; warnings: string[]; params?: unknown } = {
    problems: problems.list.map((p) =>
      p.path ? `${p.file}: ${p.path}: ${p.message}` : `${p.file}: ${p.message}`,
    ),
    warnings: problems.warnings,
  };
  if (src) {
    out.text = src.text;
    out.data = src.data;
    out.params = src.params;
  }
  return out;
}

describe('parameter templating', () => {
  it('normalizes {name} and spaced references', () => {
    expect(normalizeReferences('a{ x }b{y|number}{ z | bool }')).toBe('a{x|string}b{y|number}{z|bool}');
    // the quirk: any {word} is a reference, a regex quantifier too
    expect(normalizeReferences('re.MatchString(`\\d{4}`, r.s)')).toBe('re.MatchString(`\\d{4|string}`, r.s)');
    expect(normalizeReferences('{4,5} {a-b}')).toBe('{4,5} {a-b}');
  });

  it('substitutes strings anywhere and typed values in place of their quotes', async () => {
    const r = await render(
      '{"a":"{dir}/x.csv","n":"{n|number}","f":"{f | number}","b":"{b|bool}","l":"{l|stringlist}","s":"pre-{ dir }"}',
      '{"dir":"/tmp/in","n":10,"f":1.5,"b":true,"l":["u","v"]}',
    );
    expect(r.problems).toEqual([]);
    expect(r.data).toEqual({ a: '/tmp/in/x.csv', n: 10, f: 1.5, b: true, l: ['u', 'v'], s: 'pre-/tmp/in' });
    expect(r.text).toContain('"f":1.500000');
  });

  it('writes a newline in a string value as \\n and does not escape quotes', async () => {
    const r = await render('{"a":"{v}"}', '{"v":"x\\ny"}');
    expect(r.text).toBe('{"a":"x\\ny"}');
    expect(r.data).toEqual({ a: 'x\ny' });
    const q = await render('{"a":"{v}"}', '{"v":"say \\"hi\\""}');
    expect(q.problems).toHaveLength(1);
    expect(q.problems[0]).toMatch(
      /^script\.json: line 1: invalid JSON at column \d+: .*parameter \{v\} substituted/,
    );
  });

  it('formats numbers as integers or Go %f', () => {
    expect(formatNumberParam(10)).toBe('10');
    expect(formatNumberParam(-3)).toBe('-3');
    expect(formatNumberParam(1.5)).toBe('1.500000');
    expect(formatNumberParam(0.1)).toBe('0.100000');
    expect(formatNumberParam(2 / 3)).toBe('0.666667');
    expect(formatNumberParam(-0.0000001)).toBe('-0.000000');
    expect(formatNumberParam(1e21)).toBe('1000000000000000000000');
    // exact ties round half to even, as Go does (1/128 = 0.0078125, 3/128 = 0.0234375)
    expect(formatNumberParam(1 / 128)).toBe('0.007812');
    expect(formatNumberParam(3 / 128)).toBe('0.023438');
    expect(formatNumberParam(9.9999995)).toBe('9.999999');
    expect(formatNumberParam(0.9999999)).toBe('1.000000');
  });

  it('reports unresolved references with their line, and the regex quantifier quirk with a hint', async () => {
    const r = await render('{\n"a":"{nope}",\n"b":"re.MatchString(`x{4}`, r.s)"\n}', '{}');
    expect(r.problems).toEqual([
      'script.json: line 2: unresolved parameter reference {nope|string}: no parameter nope in the params file or --param overrides',
      expect.stringMatching(
        /^script\.json: line 3: unresolved parameter reference \{4\|string\}.*write \{4,4\} instead/,
      ),
    ]);
  });

  it('requires typed references to be alone in double quotes', async () => {
    const r = await render('{"a":"x{n|number}","b":{n|number}}', '{"n":1}');
    expect(r.problems).toEqual([
      'script.json: line 1: {n|number} must be written alone in double quotes, as "{n|number}" (a number parameter cannot be part of a longer string)',
    ]);
  });

  it('reports a reference whose type does not match the value', async () => {
    const r = await render('{"a":"{n}","b":"{s|number}","c":"{l|stringlist}"}', '{"n":1,"s":"x","l":[1,2]}');
    expect(r.problems).toEqual([
      'params.json: l: value must be a string, a number, a bool or a list of strings (got a list with non-string items)',
      'script.json: line 1: parameter n is a number in params.json, so it must be referenced as "{n|number}" (found {n|string})',
      'script.json: line 1: parameter s is a string in params.json, so it must be referenced as {s} (found {s|number})',
      'script.json: line 1: unresolved parameter reference {l|stringlist}: no parameter l in the params file or --param overrides',
    ]);
  });

  it('keeps reserved {batch_idx} and {run_id} and refuses them in params', async () => {
    const r = await render('{"u":"/out/{run_id}_{batch_idx}.csv"}', '{}');
    expect(r.problems).toEqual([]);
    expect(r.data).toEqual({ u: '/out/{run_id|string}_{batch_idx|string}.csv' });
    const p = await render('{"u":"{batch_idx}"}', '{"batch_idx":"3"}');
    expect(p.problems).toEqual([
      'params.json: batch_idx: batch_idx is reserved: it is set per run/batch in table_file URL templates',
    ]);
    const t = await render('{"u":"{run_id|number}"}', '{}');
    expect(t.problems[0]).toMatch(/run_id is reserved/);
  });

  it('applies overrides, typed by how the script uses them', async () => {
    const r = await render(
      '{"d":"{dir_in}/a","n":"{n|number}","b":"{b|bool}","l":"{l|stringlist}"}',
      '{"dir_in":"/tmp","n":1,"b":false,"l":[]}',
      { dir_in: '/data', n: '7', b: 'true', l: 'a.csv,b.csv', unused: 'x' },
    );
    expect(r.problems).toEqual([]);
    expect(r.data).toEqual({ d: '/data/a', n: 7, b: true, l: ['a.csv', 'b.csv'] });
    expect(r.params).toEqual({ dir_in: '/data', n: 7, b: true, l: ['a.csv', 'b.csv'], unused: 'x' });
    expect(r.warnings).toEqual([
      '--param unused: the script has no parameter unused; the override is not used',
    ]);
  });

  it('says which type an override must have', async () => {
    const r = await render('{\n"n":"{n|number}",\n"b":"{b|bool}"}', '{"n":1,"b":true}', {
      n: 'ten',
      b: 'maybe',
    });
    expect(r.problems).toEqual([
      '--param n: value "ten" is not a number, but the script uses "{n|number}" (script.json line 2)',
      '--param b: value "maybe" is not a bool (true/false), but the script uses "{b|bool}" (script.json line 3)',
    ]);
  });

  it('reads YAML with JSON semantics and drops null members', async () => {
    const yaml = 'a: "{dir}/x"\nn: "{n|number}"\nh: null\nl:\n  - 1\n';
    const r = await render(yaml, '{"dir":"/in","n":2.25}', undefined, '/cfg/script.yaml');
    expect(r.problems).toEqual([]);
    expect(r.data).toEqual({ a: '/in/x', n: 2.25, l: [1] });
    const bad = await render('a: [1\n', '{}', undefined, '/cfg/script.yaml');
    expect(bad.problems[0]).toMatch(/^script\.yaml: line \d+: invalid YAML at column \d+: /);
  });

  it('chooses the format by suffix only', async () => {
    const r = await render('{}', undefined, undefined, '/cfg/script.yml');
    expect(r.problems).toEqual([
      'script.yml: the file name must end in .yaml (.yml is not accepted) or .json',
    ]);
  });

  it('reports params files that are not flat objects and unreadable files', async () => {
    const r = await render('{}', '[1]');
    expect(r.problems).toEqual([
      'params.json: a params file must hold one flat object of name: value pairs (got a list)',
    ]);
    const problems = new Problems();
    await readScriptSource({ scriptUrl: '/x/s.json', readText: reader({}) }, problems);
    expect(problems.list.map((p) => p.message)).toEqual(['cannot read script /x/s.json: no such file']);
  });
});
