/**
 * CRD objects (apiextensions.k8s.io/v1) generated from the typebox schemas. `crds/*.yaml` is this output,
 * rendered by `npm run gen:crds`; `npm run check:crds` fails when the committed files differ.
 */
import type { TSchema } from '@sinclair/typebox';
import { API_GROUP, API_GROUP_VERSION, API_VERSION, CATEGORY } from './group.js';
import { DataRunSpec, DataRunStatus, DATARUN_KIND, DATARUN_PLURAL } from './datarun.js';
import {
  StreamBridgeSpec,
  StreamBridgeStatus,
  STREAMBRIDGE_KIND,
  STREAMBRIDGE_PLURAL,
} from './streambridge.js';

/** JSON Schema as the CRD carries it (plain JSON, no typebox symbols). */
export type JsonSchema = { [key: string]: unknown };

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    scope: 'Namespaced';
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JsonSchema };
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
    }>;
  };
}

/** Keywords a structural CRD schema may carry (apiextensions.k8s.io/v1 JSONSchemaProps, minus $ref & co). */
const ALLOWED_KEYWORDS = new Set([
  'description',
  'type',
  'format',
  'title',
  'default',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'multipleOf',
  'enum',
  'maxProperties',
  'minProperties',
  'required',
  'items',
  'allOf',
  'oneOf',
  'anyOf',
  'not',
  'properties',
  'additionalProperties',
  'nullable',
  'example',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
]);

/**
 * Converts a typebox schema to the CRD's structural form: drops typebox symbols and
 * `additionalProperties: false` (validator-only), and refuses keywords CRDs do not accept and properties
 * without a description, naming the path.
 */
export function toStructuralSchema(input: TSchema | JsonSchema, path = ''): JsonSchema {
  const schema = normalizeUnions(input as JsonSchema, path);
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!ALLOWED_KEYWORDS.has(key)) {
      throw new Error(`schema at '${path || '.'}' uses '${key}', which a CRD schema does not accept`);
    }
    if (key === 'additionalProperties' && value === false) continue;
    if (key === 'properties') {
      const props: JsonSchema = {};
      for (const [name, sub] of Object.entries(value as Record<string, JsonSchema>)) {
        if (typeof sub.description !== 'string' || sub.description.length === 0) {
          throw new Error(`field '${path}.${name}' has no description`);
        }
        props[name] = toStructuralSchema(sub, `${path}.${name}`);
      }
      out[key] = props;
    } else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) {
      out[key] = toStructuralSchema(value as JsonSchema, `${path}${key === 'items' ? '[]' : '{}'}`);
    } else if (key === 'anyOf' || key === 'allOf' || key === 'oneOf') {
      out[key] = (value as JsonSchema[]).map((s, i) => toStructuralSchema(s, `${path}.${key}[${i}]`));
    } else if (key === 'not') {
      out[key] = toStructuralSchema(value as JsonSchema, `${path}.not`);
    } else {
      out[key] = structuredClone(value);
    }
  }
  return out;
}

const NUMERIC_KEYWORDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'];
const STRING_KEYWORDS = ['minLength', 'maxLength', 'pattern', 'format'];

function pick(schema: JsonSchema, keys: readonly string[]): JsonSchema {
  return Object.fromEntries(keys.filter((k) => schema[k] !== undefined).map((k) => [k, schema[k]]));
}

/**
 * Rewrites the unions typebox produces into forms a structural schema accepts:
 * - a union of literals (`anyOf` of `const`) becomes `type` + `enum`;
 * - a number-or-string union becomes `x-kubernetes-int-or-string` (numbers must then be integers), with the
 *   branches' bounds moved up (each applies to its own JSON type only);
 * - `patternProperties` with the match-all pattern (a typebox Record) becomes `additionalProperties`.
 */
function normalizeUnions(schema: JsonSchema, path: string): JsonSchema {
  const branches = schema.anyOf as JsonSchema[] | undefined;
  if (Array.isArray(branches) && branches.length > 0 && !schema['x-kubernetes-int-or-string']) {
    const { anyOf: _anyOf, ...rest } = schema;
    if (branches.every((b) => 'const' in b)) {
      const values = branches.map((b) => b.const);
      const kinds = new Set(
        values.map((v) => (typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v)),
      );
      if (kinds.size !== 1)
        throw new Error(`schema at '${path || '.'}' mixes literal types ${[...kinds].join(', ')}`);
      return { ...rest, type: [...kinds][0], enum: values };
    }
    const numeric = branches.find((b) => b.type === 'integer' || b.type === 'number');
    const text = branches.find((b) => b.type === 'string');
    if (branches.length === 2 && numeric && text) {
      return {
        ...rest,
        ...pick(numeric, NUMERIC_KEYWORDS),
        ...pick(text, STRING_KEYWORDS),
        'x-kubernetes-int-or-string': true,
        anyOf: [{ type: 'integer' }, { type: 'string' }],
      };
    }
  }
  const patterns = schema.patternProperties as Record<string, JsonSchema> | undefined;
  if (patterns) {
    const { patternProperties: _p, ...rest } = schema;
    const entries = Object.entries(patterns);
    const [pattern, value] = entries[0] ?? [];
    if (entries.length !== 1 || (pattern !== '^.*$' && pattern !== '^(.*)$')) {
      throw new Error(
        `schema at '${path || '.'}' uses patternProperties, which a CRD schema does not accept`,
      );
    }
    return { ...rest, additionalProperties: value };
  }
  return schema;
}

interface KindDefinition {
  kind: string;
  plural: string;
  shortName: string;
  description: string;
  spec: TSchema;
  status: TSchema;
  printerColumns: PrinterColumn[];
}

function buildCrd(def: KindDefinition): CustomResourceDefinition {
  const openAPIV3Schema: JsonSchema = {
    type: 'object',
    description: def.description,
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string', description: `API version: ${API_GROUP_VERSION}.` },
      kind: { type: 'string', description: `Kind: ${def.kind}.` },
      metadata: { type: 'object' },
      spec: toStructuralSchema(def.spec, 'spec'),
      status: toStructuralSchema(def.status, 'status'),
    },
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${API_GROUP}`,
      labels: { 'app.kubernetes.io/name': 'plexus', 'app.kubernetes.io/part-of': 'plexus' },
    },
    spec: {
      group: API_GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.kind.toLowerCase(),
        shortNames: [def.shortName],
        categories: [CATEGORY],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema },
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
        },
      ],
    },
  };
}

const AGE: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since creation.',
};

export const dataRunCrd: CustomResourceDefinition = buildCrd({
  kind: DATARUN_KIND,
  plural: DATARUN_PLURAL,
  shortName: 'dr',
  description:
    'DataRun runs a Capillaries script (from a ConfigMap, inline text or a URL) with parameters on Plexus ' +
    'workers, starting from the given nodes, and reports per-node progress.',
  spec: DataRunSpec,
  status: DataRunStatus,
  printerColumns: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Run phase.' },
    {
      name: 'Progress',
      type: 'string',
      jsonPath: '.status.progress',
      description: 'Nodes finished / affected.',
    },
    {
      name: 'Batches',
      type: 'string',
      jsonPath: '.status.batchProgress',
      description: 'Batches done / total.',
    },
    AGE,
    {
      name: 'Keyspace',
      type: 'string',
      jsonPath: '.status.keyspace',
      description: 'Cassandra keyspace.',
      priority: 1,
    },
    {
      name: 'Message',
      type: 'string',
      jsonPath: '.status.message',
      description: 'Last message.',
      priority: 1,
    },
  ],
});

export const streamBridgeCrd: CustomResourceDefinition = buildCrd({
  kind: STREAMBRIDGE_KIND,
  plural: STREAMBRIDGE_PLURAL,
  shortName: 'sb',
  description:
    'StreamBridge moves messages from a source to a sink, at least once, through an optional durable disk buffer.',
  spec: StreamBridgeSpec,
  status: StreamBridgeStatus,
  printerColumns: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Bridge phase.' },
    { name: 'Source', type: 'string', jsonPath: '.spec.source.type', description: 'Source connector.' },
    { name: 'Sink', type: 'string', jsonPath: '.spec.sink.type', description: 'Sink connector.' },
    {
      name: 'Delivered',
      type: 'integer',
      jsonPath: '.status.counters.delivered',
      description: 'Messages delivered.',
    },
    AGE,
    {
      name: 'Message',
      type: 'string',
      jsonPath: '.status.message',
      description: 'Last error or event.',
      priority: 1,
    },
  ],
});

/** All CRDs with the file each is written to, in a stable order. */
export const CRDS: ReadonlyArray<{ file: string; crd: CustomResourceDefinition }> = [
  { file: `${API_GROUP}_${DATARUN_PLURAL}.yaml`, crd: dataRunCrd },
  { file: `${API_GROUP}_${STREAMBRIDGE_PLURAL}.yaml`, crd: streamBridgeCrd },
];
