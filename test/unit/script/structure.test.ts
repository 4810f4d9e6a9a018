import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Problems } from '../../../src/script/problems.js';
import { ScriptSchema, NodeSchema } from '../../../src/script/schema.js';
import { checkAgainst, checkScriptStructure } from '../../../src/script/structure.js';
import { unknownKeys } from '../../../src/script/unknown-keys.js';
import { dropNulls } from '../../../src/script/parse.js';

const SUITES = '/work/shared/capillaries-tests';

function messages(p: Problems): string[] {
  return p.list.map((x) => `${x.file}: ${x.path}: ${x.message}`);
}

describe('script structure (ajv + typebox schema)', () => {
  it('accepts both suite scripts (params rendered by hand)', () => {
    const yamlText = readFileSync(`${SUITES}/lookup/cfg/script_quick.yaml`, 'utf8')
      .replaceAll('"{lookup_node_batches_total|number}"', '10')
      .replaceAll('{manual_if_multi|string}', 'manual')
      .replace(/\{[a-z_|]+\}/g, 'x');
    const lookup = dropNulls(parse(yamlText));
    const tag = JSON.parse(
      readFileSync(`${SUITES}/tag_and_denormalize/cfg/script.json`, 'utf8')
        .replaceAll('{totals_start_policy|string}', 'auto')
        .replace(/\{[a-z_|]+\}/g, 'x'),
    ) as unknown;
    for (const doc of [lookup, tag]) {
      const p = new Problems();
      const ok = checkScriptStructure(doc, 's', p);
      expect(messages(p)).toEqual([]);
      expect(ok).toBe(true);
      expect(unknownKeys(doc)).toEqual([]);
    }
  });

  it('reports wrong types, missing keys and enums with their paths', () => {
    const doc = {
      nodes: {
        a: {
          type: 'table_table',
          start_policy: 'sometimes',
          r: { table: 't', expected_batches_total: '10' },
          w: { fields: { f: { expression: 'r.x', type: 'integer' } } },
        },
        b: { type: 'table_magic' },
        c: { desc: 'no type' },
      },
      dependency_policies: {
        d: { is_default: true, event_priority_order: 'run_id', rules: [{ cmd: 'go' }] },
      },
    };
    const p = new Problems();
    expect(checkScriptStructure(doc, 'script.json', p)).toBe(false);
    expect(messages(p).sort()).toEqual(
      [
        'script.json: nodes.a.start_policy: must be one of auto, manual (found string "sometimes")',
        'script.json: nodes.a.r.expected_batches_total: must be an integer (found string "10")',
        'script.json: nodes.a.w.name: is required',
        'script.json: nodes.a.w.fields.f.type: must be one of int, float, decimal2, string, bool, datetime (found string "integer")',
        'script.json: nodes.b.type: unknown node type string "table_magic" (expected one of file_table, table_table, table_lookup_table, distinct_table, table_file, table_custom_tfm_table)',
        'script.json: nodes.c.type: is required',
        'script.json: dependency_policies.d.rules[0].expression: is required',
      ].sort(),
    );
  });

  it('checks one node against the node schema with a base path', () => {
    const p = new Problems();
    const ok = checkAgainst(
      NodeSchema,
      { type: 'table_file', r: { table: 't' }, w: { url_template: '/x', columns: [] } },
      'f.yaml',
      ['nodes', 'out'],
      p,
    );
    expect(ok).toBe(false);
    expect(messages(p)).toEqual(['f.yaml: nodes.out.w.columns: must have at least 1 item']);
  });

  it('lists unknown keys, but not keys Capillaries ignores on purpose', () => {
    const doc = {
      nodes: {
        a: {
          type: 'table_table',
          custom_proc_type: 'py_calc',
          r: { table: 't', rowsetsize: 5 },
          w: { name: 'x' },
        },
      },
      dependency_policies: {},
      extra: 1,
    };
    expect(unknownKeys(doc)).toEqual(['nodes.a.r.rowsetsize', 'extra']);
  });

  it('exports a schema with an id and a discriminated node union', () => {
    expect(ScriptSchema.$id).toBeDefined();
    expect((NodeSchema as unknown as { oneOf: unknown[] }).oneOf).toHaveLength(6);
  });
});
