/**
 * The structure of a script file (Capillaries format, JSON or YAML), written once with typebox: the static types of
 * the raw document come from the same source as the JSON Schema that ajv checks it against, and the operator and the
 * docs use the exported schema as is.
 *
 * Only the structure lives here (keys, types, enums, ranges). Meaning (references between nodes, expressions, name
 * rules that need the whole script) is checked in validate.ts. Unknown keys are allowed, as Capillaries ignores them.
 */
import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { FIELD_TYPES, type FieldType } from '../values/index.js';

function StringEnum<const T extends readonly string[]>(values: T, description: string): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });
}

const Str = (description: string): ReturnType<typeof Type.String> => Type.String({ description });
const Int = (description: string, minimum: number, maximum?: number): ReturnType<typeof Type.Integer> =>
  Type.Integer(maximum === undefined ? { description, minimum } : { description, minimum, maximum });

export const FieldTypeSchema: TUnsafe<FieldType> = StringEnum(
  FIELD_TYPES,
  'Field type: int (int64), float (float64), decimal2 (exact decimal, 2 digits), string, bool, datetime',
);

// ---------------------------------------------------------------------------------------------------------------
// Readers

export const FileReaderColumnSchema = Type.Object(
  {
    col_type: FieldTypeSchema,
    col_default_value: Type.Optional(Str('Text used when the CSV cell is empty (after trimming spaces)')),
    csv: Type.Optional(
      Type.Object({
        col_idx: Type.Optional(Int('0-based column index (index mode)', 0)),
        col_hdr: Type.Optional(Str('Header text of the column (header mode, exact match)')),
        col_format: Type.Optional(
          Str('int: %d-style, float/decimal2: %f-style, datetime: Go layout; not allowed for string/bool'),
        ),
      }),
    ),
    parquet: Type.Optional(Type.Object({ col_name: Type.Optional(Str('Parquet column name')) })),
  },
  { description: 'One column of a file reader, exposed to expressions as r.<name>' },
);

export const FileReaderSchema = Type.Object(
  {
    urls: Type.Array(Str('Input file URL: path, s3://bucket/key, http(s)://, sftp://'), {
      minItems: 1,
      description: 'Input files; each one is a batch',
    }),
    csv: Type.Optional(
      Type.Object({
        hdr_line_idx: Type.Optional(Int('Line index of the header row (header mode only)', 0)),
        first_data_line_idx: Type.Optional(Int('First data line index; earlier lines are skipped', 0)),
        separator: Type.Optional(Str('Field separator (first byte used), default ","')),
      }),
    ),
    columns: Type.Record(Type.String(), FileReaderColumnSchema, {
      minProperties: 1,
      description: 'Reader fields by name',
    }),
  },
  { description: 'File reader (file_table)' },
);

export const TableReaderSchema = Type.Object(
  {
    table: Type.String({ minLength: 1, description: 'Table created by another node (its w.name)' }),
    expected_batches_total: Type.Optional(Int('Number of batches (token ranges), default 1', 1, 1_000_000)),
    rowset_size: Type.Optional(Int('Rows per read page, default 1000 (0 = default)', 0, 100_000)),
  },
  { description: 'Table reader' },
);

// ---------------------------------------------------------------------------------------------------------------
// Table creator

export const TableFieldSchema = Type.Object({
  expression: Str('Expression computing the field'),
  type: FieldTypeSchema,
  default_value: Type.Optional(Str('Value used by left lookups when there is no right row')),
});

export const TableCreatorSchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      description: 'Table name: [A-Za-z0-9_]+, not idx*/wf*/system*, at most 42',
    }),
    fields: Type.Record(Type.String(), TableFieldSchema, { minProperties: 1, description: 'Table fields' }),
    having: Type.Optional(Str('Bool expression over w.*; false drops the row')),
    indexes: Type.Optional(
      Type.Record(Type.String(), Str('unique(...) or non_unique(...)'), {
        description: 'Indexes by name (idx...)',
      }),
    ),
    table_options: Type.Optional(Str('Text appended to CREATE TABLE (e.g. WITH ...)')),
  },
  { description: 'Table creator' },
);

// ---------------------------------------------------------------------------------------------------------------
// Lookup

export const LookupSchema = Type.Object(
  {
    index_name: Type.String({
      minLength: 1,
      description: 'Index of the right table (another node w.indexes)',
    }),
    join_on: Type.String({ minLength: 1, description: 'Comma list of left fields: r.f1,r.f2' }),
    join_type: StringEnum(['inner', 'left'] as const, 'inner or left (outer)'),
    group: Type.Optional(Type.Boolean({ description: 'One output row per left row; allows aggregates' })),
    filter: Type.Optional(Str('Bool expression over l.*; right rows failing it are ignored')),
    idx_read_batch_size: Type.Optional(Int('Index read page size, default 3000', 0, 20_000)),
    right_lookup_read_batch_size: Type.Optional(Int('Right table read page size, default 3000', 0, 20_000)),
  },
  { description: 'Lookup (table_lookup_table)' },
);

// ---------------------------------------------------------------------------------------------------------------
// File creator

export const FileColumnSchema = Type.Object({
  name: Type.String({ minLength: 1, description: 'Column name, referenced as w.<name> in having and top' }),
  expression: Str('Expression over r.*'),
  type: FieldTypeSchema,
  csv: Type.Optional(
    Type.Object({
      header: Type.Optional(Str('CSV header text')),
      format: Type.Optional(Str('Go fmt verb (%s, %d, %05d, %.2f) or Go time layout for datetime')),
    }),
  ),
  parquet: Type.Optional(Type.Object({ column_name: Type.Optional(Str('Parquet column name')) })),
});

export const FileCreatorSchema = Type.Object(
  {
    url_template: Type.String({
      minLength: 1,
      description: 'Output URL; {batch_idx} and {run_id} become %05d of the batch index / run id',
    }),
    columns: Type.Array(FileColumnSchema, { minItems: 1, description: 'Output columns, in order' }),
    having: Type.Optional(Str('Bool expression over w.<column>')),
    csv: Type.Optional(Type.Object({ separator: Type.Optional(Str('Written between values, default ","')) })),
    parquet: Type.Optional(
      Type.Object({
        codec: Type.Optional(StringEnum(['gzip', 'snappy', 'uncompressed'] as const, 'default gzip')),
      }),
    ),
    top: Type.Optional(
      Type.Object({
        order: Type.String({
          minLength: 1,
          description: 'Order definition over column names: a(asc),b(desc)',
        }),
        limit: Type.Optional(Int('Rows kept, default and max 5000000', 1, 5_000_000)),
      }),
    ),
  },
  { description: 'File creator (table_file)' },
);

// ---------------------------------------------------------------------------------------------------------------
// Custom processors

export const TagAndDenormalizeSchema = Type.Object({
  tag_field_name: Type.String({ minLength: 1, description: 'Name of the tag field, exposed as p.<name>' }),
  tag_criteria: Type.Optional(
    Type.Record(Type.String(), Str('Bool expression over r.*'), { description: 'Tag → criterion' }),
  ),
  tag_criteria_url: Type.Optional(Str('JSON file holding the tag → criterion map')),
});

export const PyCalcFieldSchema = Type.Object({
  expression: Str('func(args) or a single field reference; r.* and p.*'),
  type: FieldTypeSchema,
});

export const PyCalcSchema = Type.Object({
  python_code_urls: Type.Array(Str('Python source file URL'), { description: 'Concatenated with newlines' }),
  calculated_fields: Type.Record(Type.String(), PyCalcFieldSchema, {
    minProperties: 1,
    description: 'Fields computed in Python, exposed as p.<name>',
  }),
});

/** `p` as it may appear in the file; which keys are required depends on `custom_proc_type` (checked in code). */
export const CustomProcessorSchema = Type.Object(
  {
    tag_field_name: Type.Optional(TagAndDenormalizeSchema.properties.tag_field_name),
    tag_criteria: Type.Optional(TagAndDenormalizeSchema.properties.tag_criteria),
    tag_criteria_url: Type.Optional(TagAndDenormalizeSchema.properties.tag_criteria_url),
    python_code_urls: Type.Optional(PyCalcSchema.properties.python_code_urls),
    calculated_fields: Type.Optional(PyCalcSchema.properties.calculated_fields),
  },
  { description: 'Custom processor: tag_and_denormalize or py_calc keys' },
);

export const CUSTOM_PROC_TYPES = ['py_calc', 'tag_and_denormalize'] as const;
export type CustomProcType = (typeof CUSTOM_PROC_TYPES)[number];

// ---------------------------------------------------------------------------------------------------------------
// Nodes

export const NODE_TYPES = [
  'file_table',
  'table_table',
  'table_lookup_table',
  'distinct_table',
  'table_file',
  'table_custom_tfm_table',
] as const;
export type NodeType = (typeof NODE_TYPES)[number];

const common = {
  desc: Type.Optional(Str('Description')),
  start_policy: Type.Optional(StringEnum(['auto', 'manual'] as const, 'auto (default) or manual')),
  rerun_policy: Type.Optional(StringEnum(['rerun', 'fail'] as const, 'rerun (default) or fail')),
  dependency_policy: Type.Optional(Str('Name of a dependency policy; default: the policy with is_default')),
  max_batch_processing_time: Type.Optional(Int('ms before a stuck batch is taken over, default 60000', 1)),
  handler_exe_type: Type.Optional(Str('Legacy routing key, ignored')),
};
const customProcTypeIgnored = Type.Optional(Str('Ignored on this node type'));

export const FileTableNodeSchema = Type.Object({
  type: Type.Literal('file_table'),
  ...common,
  custom_proc_type: customProcTypeIgnored,
  r: FileReaderSchema,
  w: TableCreatorSchema,
});
export const TableTableNodeSchema = Type.Object({
  type: Type.Literal('table_table'),
  ...common,
  custom_proc_type: customProcTypeIgnored,
  r: TableReaderSchema,
  w: TableCreatorSchema,
});
export const DistinctTableNodeSchema = Type.Object({
  type: Type.Literal('distinct_table'),
  ...common,
  custom_proc_type: customProcTypeIgnored,
  r: TableReaderSchema,
  w: TableCreatorSchema,
});
export const LookupTableNodeSchema = Type.Object({
  type: Type.Literal('table_lookup_table'),
  ...common,
  custom_proc_type: customProcTypeIgnored,
  r: TableReaderSchema,
  l: LookupSchema,
  w: TableCreatorSchema,
});
export const TableFileNodeSchema = Type.Object({
  type: Type.Literal('table_file'),
  ...common,
  custom_proc_type: customProcTypeIgnored,
  r: TableReaderSchema,
  w: FileCreatorSchema,
});
export const CustomTfmTableNodeSchema = Type.Object({
  type: Type.Literal('table_custom_tfm_table'),
  ...common,
  custom_proc_type: StringEnum(CUSTOM_PROC_TYPES, 'py_calc or tag_and_denormalize'),
  r: TableReaderSchema,
  p: CustomProcessorSchema,
  w: TableCreatorSchema,
});

const NodeUnion = Type.Union([
  FileTableNodeSchema,
  TableTableNodeSchema,
  DistinctTableNodeSchema,
  LookupTableNodeSchema,
  TableFileNodeSchema,
  CustomTfmTableNodeSchema,
]);
export type RawNode = Static<typeof NodeUnion>;

/** A node: `oneOf` with an OpenAPI discriminator on `type`, so a validator reports only the matching branch. */
export const NodeSchema: TUnsafe<RawNode> = Type.Unsafe<RawNode>({
  description: 'A script node; the key in `nodes` is its name',
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: NodeUnion.anyOf as TSchema[],
});

// ---------------------------------------------------------------------------------------------------------------
// Dependency policies and the script

export const DependencyRuleSchema = Type.Object({
  cmd: StringEnum(['go', 'wait', 'nogo'] as const, 'Outcome when the expression is true'),
  expression: Str('Bool expression over nrs.* and wfmodel.*'),
});

export const DependencyPolicySchema = Type.Object(
  {
    is_default: Type.Optional(Type.Boolean({ description: 'Exactly one policy is the default' })),
    event_priority_order: Type.String({
      minLength: 1,
      description: 'Order definition over nrs fields: run_is_current(desc), run_id(desc)',
    }),
    rules: Type.Array(DependencyRuleSchema, { description: 'Evaluated in order; the first true rule wins' }),
  },
  { description: 'Dependency policy' },
);

export const ScriptSchema = Type.Object(
  {
    nodes: Type.Record(Type.String(), NodeSchema, { minProperties: 1, description: 'Nodes by name' }),
    dependency_policies: Type.Record(Type.String(), DependencyPolicySchema, {
      minProperties: 1,
      description: 'Dependency policies by name',
    }),
  },
  {
    $id: 'https://plexus.dev/schemas/script.json',
    title: 'Plexus / Capillaries script',
    description: 'A data-pipeline script: nodes connected through the tables they read and create',
  },
);

/** The top level only (node and policy bodies unchecked): lets each node be checked, and reported, on its own. */
export const ScriptShellSchema = Type.Object({
  nodes: Type.Record(Type.String(), Type.Unknown(), { minProperties: 1 }),
  dependency_policies: Type.Record(Type.String(), Type.Unknown(), { minProperties: 1 }),
});

export type RawScript = Static<typeof ScriptSchema>;
export type RawFileReader = Static<typeof FileReaderSchema>;
export type RawTableReader = Static<typeof TableReaderSchema>;
export type RawTableCreator = Static<typeof TableCreatorSchema>;
export type RawLookup = Static<typeof LookupSchema>;
export type RawFileCreator = Static<typeof FileCreatorSchema>;
export type RawCustomProcessor = Static<typeof CustomProcessorSchema>;
export type RawTagAndDenormalize = Static<typeof TagAndDenormalizeSchema>;
export type RawPyCalc = Static<typeof PyCalcSchema>;
export type RawDependencyPolicy = Static<typeof DependencyPolicySchema>;
