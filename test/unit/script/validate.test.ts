import {
  loadScript,
  ScriptError,
  type DistinctTableNode,
  type FileTableNode,
  type LookupTableNode,
  type CustomTfmTableNode,
  type TableFileNode,
  type TableTableNode,
} from '../../../src/script/index.js';

const POLICIES = {
  default: {
    is_default: true,
    event_priority_order: 'run_id(desc)',
    rules: [{ cmd: 'go', expression: 'true' }],
  },
  strict: {
    event_priority_order: 'run_is_current(desc)',
    rules: [{ cmd: 'nogo', expression: 'nrs.run_status == wfmodel.RunStop' }],
  },
};

function load(nodes: Record<string, unknown>, files: Record<string, string> = {}) {
  const all: Record<string, string> = {
    '/s/script.json': JSON.stringify({ nodes, dependency_policies: POLICIES }),
    ...files,
  };
  return loadScript({
    scriptUrl: '/s/script.json',
    readText: async (u) => {
      const t = all[u];
      if (t === undefined) throw new Error(`no file ${u}`);
      return t;
    },
  });
}

async function problems(nodes: Record<string, unknown>): Promise<string[]> {
  try {
    await load(nodes);
  } catch (e) {
    if (e instanceof ScriptError) return [...e.problems];
    throw e;
  }
  return [];
}

const parquetReader = {
  type: 'file_table',
  r: {
    urls: ['/in/a.parquet', '/in/b.parquet'],
    columns: {
      id: { col_type: 'int', parquet: { col_name: 'ID' } },
      name: { col_type: 'string', parquet: { col_name: 'Name' } },
      amount: { col_type: 'decimal2', parquet: { col_name: 'Amount' } },
    },
  },
  w: {
    name: 'items',
    table_options: 'WITH comment = $$x$$',
    fields: {
      id: { expression: 'r.id', type: 'int' },
      name: { expression: 'r.name', type: 'string' },
      amount: { expression: 'r.amount * 2', type: 'decimal2' },
    },
    indexes: {
      idx_items_name: 'non_unique(name(ignore_case, 32))',
      idx_items_id: 'unique(id)',
    },
  },
};

describe('validation of the other node types', () => {
  it('builds parquet readers, distinct tables, filtered lookups, inline tags and parquet writers', async () => {
    const s = await load({
      read: parquetReader,
      distinct_names: {
        type: 'distinct_table',
        rerun_policy: 'fail',
        dependency_policy: 'strict',
        r: { table: 'items', rowset_size: 0, expected_batches_total: 4 },
        w: {
          name: 'names',
          fields: { name: { expression: 'r.name', type: 'string' } },
          indexes: { idx_names_name: 'unique(name)' },
        },
      },
      copy: {
        type: 'table_table',
        r: { table: 'names' },
        w: {
          name: 'copies',
          fields: { n: { expression: 'r.name + "!"', type: 'string' } },
          having: 'w.n != ""',
        },
      },
      join: {
        type: 'table_lookup_table',
        r: { table: 'names' },
        l: {
          index_name: 'idx_items_name',
          join_on: 'r.name',
          join_type: 'left',
          filter: 'l.amount > decimal2(1)',
          idx_read_batch_size: 10000,
        },
        w: {
          name: 'joined',
          fields: { total: { expression: 'l.amount', type: 'decimal2', default_value: '0' } },
        },
      },
      by_id: {
        type: 'table_lookup_table',
        r: { table: 'items' },
        l: { index_name: 'idx_items_id', join_on: 'r.id', join_type: 'inner', group: true },
        w: {
          name: 'by_id',
          fields: {
            id: { expression: 'r.id', type: 'int' },
            names: { expression: 'string_agg(l.name, ",")', type: 'string' },
          },
        },
      },
      tags: {
        type: 'table_custom_tfm_table',
        custom_proc_type: 'tag_and_denormalize',
        r: { table: 'items' },
        p: { tag_field_name: 'tag', tag_criteria: { big: 'r.amount > decimal2(100)', all: 'true' } },
        w: { name: 'tagged', fields: { tag: { expression: 'p.tag', type: 'string' } } },
      },
      out: {
        type: 'table_file',
        r: { table: 'joined' },
        w: {
          url_template: 's3://bucket/out/joined_{batch_idx}.parquet',
          parquet: { codec: 'snappy' },
          top: { order: 'total(desc)', limit: 100 },
          having: 'w.total > decimal2(0)',
          columns: [
            { name: 'total', expression: 'r.total', type: 'decimal2', parquet: { column_name: 'Total' } },
          ],
        },
      },
    });
    const read = s.nodes.get('read') as FileTableNode;
    expect(read.r.kind).toBe('parquet');
    expect(read.r.columns.map((c) => c.parquetColName)).toEqual(['ID', 'Name', 'Amount']);
    expect(read.w.tableOptions).toBe('WITH comment = $$x$$');
    expect(read.w.indexes.map((i) => i.name)).toEqual(['idx_items_name', 'idx_items_id']);
    const name = read.w.indexes[0]!.def.components[0]!;
    expect([name.caseSensitive, name.strLen]).toEqual([false, 32]);

    const d = s.nodes.get('distinct_names') as DistinctTableNode;
    expect(d.distinctIndex.name).toBe('idx_names_name');
    expect(d.r).toEqual({ table: 'items', expectedBatchesTotal: 4, rowsetSize: 1000 });
    expect(d.dependencyPolicy.name).toBe('strict');
    expect(d.rerunPolicy).toBe('fail');

    expect((s.nodes.get('copy') as TableTableNode).w.having?.type).toBe('bool');
    const j = s.nodes.get('join') as LookupTableNode;
    expect(j.l.filter?.fields).toEqual([{ alias: 'l', field: 'amount' }]);
    expect([j.l.idxReadBatchSize, j.l.rightLookupReadBatchSize, j.l.rightTable]).toEqual([
      10000,
      3000,
      'items',
    ]);
    expect((s.nodes.get('by_id') as LookupTableNode).w.fields[1]!.expr.aggregate?.fn).toBe('string_agg');

    const t = s.nodes.get('tags') as CustomTfmTableNode;
    expect(t.p.kind === 'tag_and_denormalize' && t.p.criteria.map((c) => c.tag)).toEqual(['big', 'all']);

    const out = s.nodes.get('out') as TableFileNode;
    expect(out.w).toMatchObject({
      urlTemplate: 's3://bucket/out/joined_{batch_idx}.parquet',
      kind: 'parquet',
      parquetCodec: 'snappy',
      csvSeparator: ',',
    });
    expect(out.w.top?.limit).toBe(100);
    expect(s.affectedNodes(['read'])).toEqual(s.dag.topo);
  });

  it('rejects readers whose addressing cannot be told and parquet readers with missing names', async () => {
    const p = await problems({
      csv: {
        type: 'file_table',
        r: {
          urls: ['/a.csv'],
          columns: { a: { col_type: 'int' }, b: { col_type: 'int' } },
        },
        w: { name: 't1', fields: { a: { expression: 'r.a', type: 'int' } } },
      },
      pq: {
        type: 'file_table',
        r: {
          urls: ['/a.parquet'],
          columns: { a: { col_type: 'int', parquet: { col_name: 'A' } }, b: { col_type: 'int' } },
        },
        w: { name: 't2', fields: { a: { expression: 'r.b', type: 'int' } } },
      },
    });
    expect(p).toEqual([
      'script.json: nodes.csv.r.columns: cannot tell how to read the file: give csv.col_hdr or csv.col_idx for the columns (or parquet.col_name)',
      'script.json: nodes.pq.r.columns.b.parquet.col_name: is required: other columns are read from Parquet',
    ]);
  });

  it('checks names of tables, fields and indexes', async () => {
    const p = await problems({
      a: {
        type: 'file_table',
        r: { urls: ['/a.csv'], columns: { c: { col_type: 'string', csv: { col_idx: 0 } } } },
        w: {
          name: 'system_t',
          fields: {
            rowid: { expression: 'r.c', type: 'string' },
            Name: { expression: 'r.c', type: 'string' },
            name: { expression: 'r.c', type: 'string' },
          },
          indexes: { idx_t_name_to_check_uniq: 'unique(nme)' },
        },
      },
    });
    expect(p).toEqual([
      'script.json: nodes.a.w.name: table name system_t must not start with idx, wf or system',
      'script.json: nodes.a.w.fields.rowid: rowid is reserved (every table has a rowid column)',
      'script.json: nodes.a.w.fields.name: field name differs from field Name only in case (table columns are case-insensitive)',
      'script.json: nodes.a.w.indexes.idx_t_name_to_check_uniq: unknown field nme (did you mean name?) in index of table system_t',
    ]);
  });
});
