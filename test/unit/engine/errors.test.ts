import { BatchError } from '../../../src/engine/index.js';
import { ITEMS_CSV_0, ORDERS_CSV, shopNodes } from './fixture.js';
import { Sandbox } from './helpers.js';

const readItems = shopNodes()['read_items'] as { w: Record<string, unknown> };
const PY_NODES = {
  read_items: { ...readItems, w: { ...readItems.w, indexes: {} } },
  item_ratios: {
    type: 'table_custom_tfm_table',
    custom_proc_type: 'py_calc',
    r: { table: 'items', expected_batches_total: 1 },
    p: {
      python_code_urls: ['{dir}/calc.py'],
      calculated_fields: {
        unit: { expression: 'per_unit(r.price, r.qty)', type: 'float' },
        label: { expression: 'describe(r.order_id, p.unit)', type: 'string' },
      },
    },
    w: {
      name: 'item_ratios',
      fields: {
        order_id: { expression: 'r.order_id', type: 'string' },
        unit: { expression: 'p.unit', type: 'float' },
        label: { expression: 'p.label', type: 'string' },
      },
    },
  },
};

const CALC_PY = `def per_unit(price, qty):
    return price / qty

def describe(order_id, unit):
    return "%s:%.2f" % (order_id, unit)
`;

describe('batch errors name the file, line or row, node and column', () => {
  let sb: Sandbox;

  beforeEach(() => {
    sb = new Sandbox();
    sb.file('orders.csv', ORDERS_CSV);
    sb.file('items_0.csv', ITEMS_CSV_0);
    sb.file('items_1.csv', 'o3,3,12.50\n');
    sb.file('calc.py', CALC_PY);
  });

  afterEach(async () => {
    await sb.close();
  });

  test('a malformed CSV line (wrong field count)', async () => {
    sb.file('items_1.csv', 'o3,3,12.50\no4,2\n');
    await sb.load(shopNodes());
    const err = await sb.run('read_items', { only: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain('read_items');
    expect(msg).toContain('items_1.csv');
    expect(msg).toMatch(/line 2/);
  });

  test('a value that does not parse with its format', async () => {
    sb.file('items_1.csv', 'o3,3,12.50\no4,two,1.00\n');
    await sb.load(shopNodes());
    const err = (await sb.run('read_items', { only: 1 }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(BatchError);
    expect(err.message).toContain('node read_items');
    expect(err.message).toContain('items_1.csv');
    expect(err.message).toMatch(/line 2/);
    expect(err.message).toContain('col_qty');
    expect(err.message).toContain('two');
  });

  test('a header column that is not in the file', async () => {
    sb.file('orders.csv', 'order_id,client,ordered_at\no1,alice,2024-01-03 10:15:00\n');
    await sb.load(shopNodes());
    const err = (await sb.run('read_orders').catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('node read_orders');
    expect(err.message).toContain('orders.csv');
    expect(err.message).toContain('"customer"');
    expect(err.message).toContain('r.columns.col_customer');
  });

  test('a missing input file', async () => {
    await sb.load(shopNodes());
    sb.file('items_1.csv', '');
    const { rmSync } = await import('node:fs');
    rmSync(`${sb.dir}/items_1.csv`);
    const err = (await sb.run('read_items', { only: 1 }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('items_1.csv');
  });

  test('an expression that fails at run time names the row and field', async () => {
    const nodes = shopNodes({
      bad_values: {
        type: 'table_table',
        r: { table: 'items' },
        w: {
          name: 'bad_values',
          fields: { q: { expression: 'r.qty / (r.qty - r.qty)', type: 'int' } },
        },
      },
    });
    await sb.load(nodes);
    await sb.run('read_items');
    const err = (await sb.run('bad_values').catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(BatchError);
    expect(err.message).toContain('node bad_values');
    expect(err.message).toMatch(/row \d+ of table items/);
    expect(err.message).toContain('w.fields.q');
    expect(err.message).toMatch(/divide by zero/);
  });

  test('py_calc computes fields in dependency order', async () => {
    await sb.load(PY_NODES);
    await sb.run('read_items');
    const [res] = await sb.run('item_ratios');
    expect(res!.rowsOut).toBe(4);
    const labels = (await sb.rows('item_ratios')).map((r) => String(r.label)).sort();
    expect(labels).toEqual(['o1:1.60', 'o1:12.50', 'o2:18.00', 'o3:4.17']);
  });

  test('a Python formula that raises fails the batch with the row and the exception', async () => {
    sb.file('items_1.csv', 'o3,0,12.50\n');
    await sb.load(PY_NODES);
    await sb.run('read_items');
    const err = (await sb.run('item_ratios').catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(BatchError);
    expect(err.message).toContain('node item_ratios');
    expect(err.message).toMatch(/row \d+ of table items/);
    expect(err.message).toContain('ZeroDivisionError: float division by zero');
  });
});
