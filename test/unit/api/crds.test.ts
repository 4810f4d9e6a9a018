import fs from 'node:fs';
import path from 'node:path';
import { CRDS, generatedFiles, toStructuralSchema, type JsonSchema } from '../../../src/api/index.js';

const root = path.resolve(import.meta.dirname, '..', '..', '..');

function walk(schema: JsonSchema, at: string, visit: (s: JsonSchema, at: string) => void): void {
  visit(schema, at);
  for (const [k, v] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>))
    walk(v, `${at}.${k}`, visit);
  if (schema.items) walk(schema.items as JsonSchema, `${at}[]`, visit);
  if (typeof schema.additionalProperties === 'object')
    walk(schema.additionalProperties as JsonSchema, `${at}{}`, visit);
}

describe('generated files', () => {
  it.each(generatedFiles().map((f) => [f.path, f.content] as const))(
    '%s is current (npm run gen:crds)',
    (rel, content) => {
      const file = path.join(root, rel);
      expect(fs.existsSync(file)).toBe(true);
      expect(fs.readFileSync(file, 'utf8')).toBe(content);
    },
  );
});

describe.each(CRDS.map((c) => [c.crd.spec.names.kind, c.crd] as const))('%s CRD', (_kind, crd) => {
  const version = crd.spec.versions[0]!;
  const schema = version.schema.openAPIV3Schema;
  const specAndStatus = schema.properties as Record<string, JsonSchema>;

  it('has names, categories, status subresource and printer columns', () => {
    expect(crd.spec.group).toBe('plexus.dev');
    expect(version.name).toBe('v1alpha1');
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names.categories).toEqual(['plexus']);
    expect(crd.spec.names.shortNames).toHaveLength(1);
    expect(version.subresources).toEqual({ status: {} });
    expect(version.additionalPrinterColumns.map((c) => c.name)).toEqual(
      expect.arrayContaining(['Phase', 'Age']),
    );
  });

  it('bounds every string, list and map and describes every field', () => {
    const problems: string[] = [];
    for (const part of ['spec', 'status']) {
      walk(specAndStatus[part]!, part, (s, at) => {
        if (s.type === 'string' && s.enum === undefined && s.maxLength === undefined)
          problems.push(`${at}: string without maxLength`);
        if (s.type === 'array' && s.maxItems === undefined) problems.push(`${at}: list without maxItems`);
        if (
          s.type === 'object' &&
          typeof s.additionalProperties === 'object' &&
          s.maxProperties === undefined
        ) {
          problems.push(`${at}: map without maxProperties`);
        }
        if (typeof s.description !== 'string' && !at.endsWith('[]') && !at.endsWith('{}'))
          problems.push(`${at}: no description`);
        if ('additionalProperties' in s && s.additionalProperties === false)
          problems.push(`${at}: additionalProperties false`);
      });
    }
    expect(problems).toEqual([]);
  });

  it('stays far below the 256 KiB client-side apply limit', () => {
    expect(JSON.stringify(crd).length).toBeLessThan(128 * 1024);
  });
});

describe('toStructuralSchema', () => {
  it('refuses keywords a CRD does not accept, naming the field', () => {
    expect(() =>
      toStructuralSchema({ type: 'object', properties: { a: { description: 'x', const: 1 } } }, 'spec'),
    ).toThrow("schema at 'spec.a' uses 'const'");
  });
  it('refuses a field without description', () => {
    expect(() =>
      toStructuralSchema({ type: 'object', properties: { b: { type: 'string' } } }, 'spec'),
    ).toThrow("field 'spec.b' has no description");
  });
  it('drops additionalProperties: false but keeps typed maps', () => {
    const out = toStructuralSchema({
      type: 'object',
      additionalProperties: false,
      properties: { m: { description: 'm', type: 'object', additionalProperties: { type: 'string' } } },
    });
    expect(out).toEqual({
      type: 'object',
      properties: { m: { description: 'm', type: 'object', additionalProperties: { type: 'string' } } },
    });
  });
});

describe('toStructuralSchema: unions', () => {
  it('turns a union of literals into an enum', () => {
    expect(
      toStructuralSchema({
        description: 'jitter',
        anyOf: [
          { const: 'full', type: 'string' },
          { const: 'none', type: 'string' },
        ],
      }),
    ).toEqual({ description: 'jitter', type: 'string', enum: ['full', 'none'] });
    expect(toStructuralSchema({ description: 'acks', anyOf: [{ const: -1 }, { const: 1 }] })).toEqual({
      description: 'acks',
      type: 'integer',
      enum: [-1, 1],
    });
  });

  it('turns number-or-string into int-or-string, keeping each branch its bounds', () => {
    expect(
      toStructuralSchema({
        description: 'size',
        anyOf: [
          { type: 'integer', minimum: 0 },
          { type: 'string', maxLength: 32, pattern: '^[0-9]+Mi$' },
        ],
      }),
    ).toEqual({
      description: 'size',
      minimum: 0,
      maxLength: 32,
      pattern: '^[0-9]+Mi$',
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
    });
  });

  it('turns a typebox Record into additionalProperties and refuses other patternProperties', () => {
    expect(
      toStructuralSchema({
        description: 'headers',
        type: 'object',
        maxProperties: 8,
        patternProperties: { '^(.*)$': { type: 'string', maxLength: 10 } },
      }),
    ).toEqual({
      description: 'headers',
      type: 'object',
      maxProperties: 8,
      additionalProperties: { type: 'string', maxLength: 10 },
    });
    expect(() =>
      toStructuralSchema({ type: 'object', patternProperties: { '^x-': { type: 'string' } } }, 'spec.h'),
    ).toThrow("schema at 'spec.h' uses patternProperties");
  });

  it('refuses literals of mixed types', () => {
    expect(() => toStructuralSchema({ anyOf: [{ const: 1 }, { const: 'a' }] }, 'spec.x')).toThrow(
      'mixes literal types',
    );
  });
});
