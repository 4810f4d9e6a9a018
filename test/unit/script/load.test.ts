import { readFileSync } from 'node:fs';
import {
  loadScript,
  ScriptError,
  type CustomTfmTableNode,
  type FileTableNode,
  type LookupTableNode,
  type Script,
  type TableFileNode,
} from '../../../src/script/index.js';

const SUITES = '/work/shared/capillaries-tests';

async function readText(url: string): Promise<string> {
  return readFileSync(url, 'utf8');
}

function lookup(params: 'one' | 'multi'): Promise<Script> {
  return loadScript({
    scriptUrl: `${SUITES}/lookup/cfg/script_quick.yaml`,
    paramsUrl: `${SUITES}/lookup/cfg/script_params_quick_fs_${params}.yaml`,
    overrides: { dir_in: '/data/in', dir_out: '/data/out' },
    readText,
  });
}

function tag(params: 'one' | 'multi'): Promise<Script> {
  return loadScript({
    scriptUrl: `${SUITES}/tag_and_denormalize/cfg/script.json`,
    paramsUrl: `${SUITES}/tag_and_denormalize/cfg/script_params_fs_${params}.json`,
    overrides: { dir_in: '/data/in', dir_out: '/data/out', dir_cfg: `${SUITES}/tag_and_denormalize/cfg` },
    readText,
  });
}

const LOOKUPS = [
  'order_item_date_inner',
  'order_item_date_left_outer',
  'order_date_value_grouped_inner',
  'order_date_value_grouped_left_outer',
];

describe('the suite scripts load cleanly', () => {
  it.each(['one', 'multi'] as const)('lookup with %s params', async (p) => {
    const s = await lookup(p);
    expect(s.warnings).toEqual([]);
    expect(s.nodes.size).toBe(10);
    expect(s.dag.topo.slice(0, 2)).toEqual(['read_orders', 'read_order_items']);
    expect(s.params.dir_in).toBe('/data/in');
    expect(s.params.lookup_node_batches_total).toBe(10);
    for (const n of LOOKUPS) expect(s.nodes.get(n)?.startPolicy).toBe(p === 'one' ? 'auto' : 'manual');
  });

  it.each(['one', 'multi'] as const)('tag_and_denormalize with %s params', async (p) => {
    const s = await tag(p);
    expect(s.warnings).toEqual([]);
    expect([...s.nodes.keys()]).toEqual([
      'read_tags',
      'read_products',
      'tag_products',
      'file_tagged_products_for_operator_review',
      'tag_totals',
      'file_tag_totals',
    ]);
    expect(s.nodes.get('tag_totals')?.startPolicy).toBe(p === 'one' ? 'auto' : 'manual');
  });
});

describe('the model of the lookup script', () => {
  let s: Script;
  beforeAll(async () => {
    s = await lookup('one');
  });

  it('describes readers', () => {
    const orders = s.nodes.get('read_orders') as FileTableNode;
    expect(orders.r).toMatchObject({
      urls: ['/data/in/olist_orders_dataset.csv'],
      kind: 'csv',
      columnMode: 'header',
      csv: { hdrLineIdx: 0, firstDataLineIdx: 1, separator: ',' },
    });
    expect(orders.r.columns[2]).toEqual({
      name: 'col_order_purchase_timestamp',
      type: 'datetime',
      csvColHdr: 'order_purchase_timestamp',
      csvColFormat: '2006-01-02 15:04:05',
    });
    const items = s.nodes.get('read_order_items') as FileTableNode;
    expect(items.r.columnMode).toBe('index');
    expect(items.r.columns[5]).toEqual({
      name: 'col_price',
      type: 'decimal2',
      csvColIdx: 5,
      csvColFormat: '%f',
    });
    expect(orders.w.having?.type).toBe('bool');
    expect(orders.w.indexes.map((i) => [i.name, i.def.unique])).toEqual([
      ['idx_orders_order_id_to_check_uniq', true],
    ]);
    expect(orders.dependencyPolicy.name).toBe('current_active_first_stopped_nogo');
    expect(orders.maxBatchProcessingTimeMs).toBe(60000);
  });

  it('describes lookups', () => {
    const inner = s.nodes.get('order_item_date_inner') as LookupTableNode;
    expect(inner.r).toEqual({ table: 'orders', expectedBatchesTotal: 10, rowsetSize: 1000 });
    expect(inner.l).toMatchObject({
      indexName: 'idx_order_items_order_id',
      rightTable: 'order_items',
      joinOn: ['order_id'],
      joinType: 'inner',
      group: false,
      idxReadBatchSize: 3000,
      rightLookupReadBatchSize: 3000,
    });
    expect(inner.l.index.components.map((c) => c.field)).toEqual(['order_id']);
    const left = s.nodes.get('order_item_date_left_outer') as LookupTableNode;
    expect(left.w.fields.find((f) => f.name === 'value')?.defaultValue).toBe('999.00');
    const grouped = s.nodes.get('order_date_value_grouped_left_outer') as LookupTableNode;
    expect(grouped.l.group).toBe(true);
    const agg = grouped.w.fields.filter((f) => f.expr.aggregate !== undefined).map((f) => f.name);
    expect(agg).toEqual([
      'total_value',
      'avg_value',
      'min_value',
      'max_value',
      'min_product_id',
      'max_product_id',
      'item_count',
    ]);
  });

  it('describes file writers', () => {
    const f = s.nodes.get('file_order_date_value_grouped_inner') as TableFileNode;
    expect(f.w.urlTemplate).toBe('/data/out/order_date_value_grouped_inner.csv');
    expect(f.w.kind).toBe('csv');
    expect(f.w.csvSeparator).toBe(',');
    expect(f.w.columns[0]).toMatchObject({
      name: 'total_value',
      type: 'decimal2',
      csvHeader: 'total_value',
      csvFormat: '%10s',
    });
    expect(f.w.top?.limit).toBe(5_000_000);
    expect(f.w.top?.order.components.map((c) => [c.field, c.desc])).toEqual([
      ['total_value', true],
      ['order_purchase_timestamp', true],
      ['order_id', true],
    ]);
  });

  it('knows tables, indexes and fields', () => {
    expect(s.tableCreator('orders')?.name).toBe('read_orders');
    expect(s.tableCreator('nope')).toBeUndefined();
    expect(s.indexCreator('idx_order_items_order_id')?.name).toBe('read_order_items');
    expect(s.tableFields('orders')).toEqual({
      order_id: 'string',
      order_status: 'string',
      order_purchase_timestamp: 'datetime',
    });
    expect(() => s.tableFields('nope')).toThrow(/no node creates table nope/);
  });

  it('builds the DAG', () => {
    expect(s.dag.parents('order_item_date_inner').sort()).toEqual(['read_order_items', 'read_orders']);
    expect(s.dag.children('read_orders')).toEqual(LOOKUPS);
    expect(s.dag.edges).toContainEqual({
      from: 'read_order_items',
      to: 'order_item_date_inner',
      table: 'order_items',
      kind: 'lookup',
    });
    const pos = new Map(s.dag.topo.map((n, i) => [n, i]));
    for (const e of s.dag.edges) expect(pos.get(e.from)!).toBeLessThan(pos.get(e.to)!);
  });

  it('compiles the dependency policy', () => {
    const p = s.defaultDependencyPolicy;
    expect(p.isDefault).toBe(true);
    expect(p.rules.map((r) => r.cmd)).toEqual([
      'go',
      'wait',
      'wait',
      'nogo',
      'go',
      'wait',
      'wait',
      'go',
      'nogo',
      'nogo',
    ]);
    expect(p.eventPriorityOrder.components.map((c) => [c.field, c.desc])).toEqual([
      ['run_is_current', true],
      ['run_id', true],
    ]);
    const env = { nrs: { run_id: 1n, run_is_current: true, run_status: 1n, node_status: 2n } };
    expect(p.rules.map((r) => r.expr.eval(env))).toEqual([
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('affected nodes (which nodes a run executes)', () => {
  it('runs everything downstream of the loaders when all nodes are auto', async () => {
    const s = await lookup('one');
    expect(s.affectedNodes(['read_orders', 'read_order_items'])).toEqual(s.dag.topo);
  });

  it('stops at manual nodes, and runs them with their descendants when they are start nodes', async () => {
    const s = await lookup('multi');
    expect(s.affectedNodes(['read_orders', 'read_order_items', ''])).toEqual([
      'read_orders',
      'read_order_items',
    ]);
    const second = s.affectedNodes(LOOKUPS);
    expect(second.sort()).toEqual([...LOOKUPS, ...LOOKUPS.map((n) => `file_${n}`)].sort());
    const t = await tag('multi');
    expect(t.affectedNodes(['read_tags', 'read_products'])).toEqual([
      'read_tags',
      'read_products',
      'tag_products',
      'file_tagged_products_for_operator_review',
    ]);
    expect(t.affectedNodes(['tag_totals'])).toEqual(['tag_totals', 'file_tag_totals']);
  });

  it('rejects unknown start nodes', async () => {
    const s = await lookup('one');
    expect(() => s.affectedNodes(['read_ordrs'])).toThrow(/unknown start node read_ordrs/);
  });
});

describe('the model of the tag_and_denormalize script', () => {
  it('reads the criteria file and compiles each criterion', async () => {
    const s = await tag('one');
    const n = s.nodes.get('tag_products') as CustomTfmTableNode;
    expect(n.customProcType).toBe('tag_and_denormalize');
    if (n.p.kind !== 'tag_and_denormalize') throw new Error('wrong kind');
    expect(n.p.tagFieldName).toBe('tag');
    expect(n.p.criteriaUrl).toBe(`${SUITES}/tag_and_denormalize/cfg/tag_criteria.json`);
    expect(n.p.criteria.map((c) => c.tag)).toEqual(['boys', 'diving', 'casualfootwear', 'engagement']);
    const boys = n.p.criteria[0]!.expr;
    const spec = '{"k":"Ideal For","v":"Boys, Girls"}';
    expect(boys.eval({ r: { product_spec: spec, category_tree: '', price: 0 } })).toBe(true);
    const w = n.w.fields.find((f) => f.name === 'tag');
    expect(w?.expr.fields).toEqual([{ alias: 'p', field: 'tag' }]);
    const file = s.nodes.get('file_tag_totals') as TableFileNode;
    expect(file.w.csvSeparator).toBe('\t');
  });
});

describe('py_calc', () => {
  const dir = '/cfg';
  const files: Record<string, string> = {
    '/cfg/calc.py':
      'def taxed(price, rate):\n    return price * (1 + rate)\n\ndef label(name, v=0):\n    return name\n',
    '/cfg/script.json': JSON.stringify({
      nodes: {
        read: {
          type: 'file_table',
          r: { urls: ['/in/a.csv'], columns: { col_price: { col_type: 'float', csv: { col_idx: 0 } } } },
          w: {
            name: 'items',
            fields: {
              price: { expression: 'r.col_price', type: 'float' },
              name: { expression: '"x"', type: 'string' },
            },
          },
        },
        calc: {
          type: 'table_custom_tfm_table',
          custom_proc_type: 'py_calc',
          r: { table: 'items', expected_batches_total: 2 },
          p: {
            python_code_urls: ['{dir}/calc.py'],
            calculated_fields: {
              with_tax: { expression: 'taxed(r.price, p.rate)', type: 'float' },
              rate: { expression: 'float(0.2)', type: 'float' },
              name_label: { expression: 'label(r.name)', type: 'string' },
              copy: { expression: 'p.with_tax', type: 'float' },
            },
          },
          w: {
            name: 'calculated',
            fields: {
              with_tax: { expression: 'p.with_tax', type: 'float' },
              label: { expression: 'p.name_label', type: 'string' },
              price: { expression: 'r.price', type: 'float' },
            },
          },
        },
      },
      dependency_policies: {
        d: { is_default: true, event_priority_order: 'run_id', rules: [{ cmd: 'go', expression: 'true' }] },
      },
    }),
  };

  it('orders calculated fields by dependency and rewrites them to Python', async () => {
    const s = await loadScript({
      scriptUrl: `${dir}/script.json`,
      overrides: { dir },
      readText: async (u) => files[u] ?? Promise.reject(new Error('missing')),
    });
    const n = s.nodes.get('calc') as CustomTfmTableNode;
    if (n.p.kind !== 'py_calc') throw new Error('wrong kind');
    expect(n.p.pythonCode).toBe(files['/cfg/calc.py']);
    expect(n.p.calculatedFields.map((f) => [f.name, f.pythonExpression])).toEqual([
      ['rate', 'float(0.2)'],
      ['with_tax', 'taxed(r_price, p_rate)'],
      ['name_label', 'label(r_name)'],
      ['copy', 'p_with_tax'],
    ]);
    expect(n.p.usedReaderFields).toEqual(['price', 'name']);
  });
});

describe('warnings', () => {
  it('reports unknown keys and unused overrides without failing', async () => {
    const url = `${SUITES}/tag_and_denormalize/cfg/script.json`;
    const s = await loadScript({
      scriptUrl: url,
      paramsUrl: `${SUITES}/tag_and_denormalize/cfg/script_params_fs_one.json`,
      overrides: { dir_cfg: `${SUITES}/tag_and_denormalize/cfg`, dir_tmp: '/tmp' },
      readText: async (u) => {
        const t = await readText(u);
        return u === url
          ? t.replace(/"expected_batches_total": 10(\r?\n)/, '"expected_batches_total": 10, "rowset": 5$1')
          : t;
      },
    });
    expect(s.warnings).toEqual([
      '--param dir_tmp: the script has no parameter dir_tmp; the override is not used',
      'script.json: nodes.tag_products.r.rowset: unknown key, ignored',
    ]);
  });
});

describe('load errors', () => {
  it('throws ScriptError with every problem, including override types', async () => {
    const err = await lookup('one')
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(err).toBeUndefined();
    const bad = await loadScript({
      scriptUrl: `${SUITES}/lookup/cfg/script_quick.yaml`,
      paramsUrl: `${SUITES}/lookup/cfg/script_params_quick_fs_one.yaml`,
      overrides: { lookup_node_batches_total: '1.5.2' },
      readText,
    }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ScriptError);
    expect((bad as ScriptError).problems[0]).toMatch(
      /^--param lookup_node_batches_total: value "1.5.2" is not a number/,
    );
    expect((bad as ScriptError).code).toBe('SCRIPT_INVALID');
  });
});
