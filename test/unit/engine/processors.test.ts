import { NodeStatus } from '../../../src/store/index.js';
import { ITEMS_CSV_0, ITEMS_CSV_1, ORDERS_CSV, shopNodes } from './fixture.js';
import { Sandbox, show } from './helpers.js';

/** A table_file node writing items' order ids and prices, highest price first, `limit` rows at most. */
function topPricesNode(limit: number): Record<string, unknown> {
  return {
    type: 'table_file',
    r: { table: 'items', expected_batches_total: 1 },
    w: {
      url_template: '{dir}/out/top_prices.csv',
      top: { order: 'price(desc),order_id', limit },
      columns: [
        {
          name: 'order_id',
          expression: 'r.order_id',
          type: 'string',
          csv: { header: 'order_id', format: '%s' },
        },
        { name: 'price', expression: 'r.price', type: 'decimal2', csv: { header: 'price', format: '%s' } },
      ],
    },
  };
}

describe('processors', () => {
  let sb: Sandbox;

  beforeEach(async () => {
    sb = new Sandbox();
    sb.file('orders.csv', ORDERS_CSV);
    sb.file('items_0.csv', ITEMS_CSV_0);
    sb.file('items_1.csv', ITEMS_CSV_1);
    sb.file('out/.keep', '');
    await sb.load(shopNodes());
  });

  afterEach(async () => {
    await sb.close();
  });

  test('file_table: header columns, having, unique index', async () => {
    const [res] = await sb.run('read_orders');
    expect(res!.rowsIn).toBe(5);
    expect(res!.rowsOut).toBe(4); // o5 is before 2024
    expect(show(await sb.rows('orders', 'order_id'))).toEqual([
      'order_id=o1 customer=alice ordered_at=2024-01-03T10:15:00.000Z',
      'order_id=o2 customer=bob ordered_at=2024-01-04T11:00:00.000Z',
      'order_id=o3 customer=Älice ordered_at=2024-01-05T09:30:00.000Z',
      'order_id=o4 customer=alice ordered_at=2024-01-07T16:45:00.000Z',
    ]);
  });

  test('file_table: one batch per file, index columns, %f decimals rounded to 2 places', async () => {
    const res = await sb.run('read_items');
    expect(res.map((r) => r.rowsOut)).toEqual([3, 4]);
    const rows = show(await sb.rows('items'));
    expect(rows).toContain('order_id=o4 qty=2 price=3.21');
    expect(rows).toHaveLength(7);
  });

  test('table_table: computed decimals and having over token-range batches', async () => {
    await sb.run('read_items');
    const res = await sb.run('item_values');
    expect(res).toHaveLength(3);
    expect(res.reduce((a, r) => a + r.rowsIn, 0)).toBe(7);
    expect(show(await sb.rows('item_values', 'value')).sort()).toEqual([
      'order_id=o3 value=37.5',
      'order_id=o3 value=49.9',
    ]);
  });

  test('distinct_table: the first row with a key wins, duplicates are skipped', async () => {
    await sb.run('read_orders');
    const res = await sb.run('customers');
    expect(res.reduce((a, r) => a + r.rowsIn, 0)).toBe(4);
    // alice twice; Älice has the same key (accents stripped, ignore_case)
    expect(res.reduce((a, r) => a + r.rowsOut, 0)).toBe(2);
    const names = (await sb.rows('customers')).map((r) => String(r.customer)).sort();
    expect(names).toHaveLength(2);
    expect(names).toContain('bob');
  });

  test('lookup: left join without group gives defaults to unmatched rows', async () => {
    sb.file('items_1.csv', 'o3,3,12.50\no3,1,49.90\n');
    await sb.run('read_orders');
    await sb.run('read_items');
    await sb.run('order_items_left');
    expect(show(await sb.rows('order_items_left')).sort()).toEqual([
      'order_id=o1 qty=1 price=12.5',
      'order_id=o1 qty=2 price=3.2',
      'order_id=o2 qty=1 price=18',
      'order_id=o3 qty=1 price=49.9',
      'order_id=o3 qty=3 price=12.5',
      'order_id=o4 qty=-1 price=0',
    ]);
  });

  test('lookup: inner join with a filter on l.*', async () => {
    await sb.run('read_orders');
    await sb.run('read_items');
    await sb.run('order_items_inner');
    expect(show(await sb.rows('order_items_inner')).sort()).toEqual([
      'order_id=o1 qty=1',
      'order_id=o1 qty=2',
      'order_id=o2 qty=1',
      'order_id=o3 qty=1',
      'order_id=o4 qty=2',
    ]);
  });

  test('lookup: the left key comes from left fields named like the index components (Capillaries quirk)', async () => {
    const nodes = shopNodes({
      by_customer_name: {
        type: 'table_lookup_table',
        r: { table: 'orders' },
        // join_on names r.customer, but the index component is order_id: the left row's order_id is used
        l: { index_name: 'idx_items_order_id', join_on: 'r.customer', group: true, join_type: 'inner' },
        w: {
          name: 'by_customer_name',
          fields: {
            order_id: { expression: 'r.order_id', type: 'string' },
            n: { expression: 'count()', type: 'int' },
          },
        },
      },
    });
    await sb.load(nodes);
    await sb.run('read_orders');
    await sb.run('read_items');
    await sb.run('by_customer_name');
    expect(show(await sb.rows('by_customer_name', 'order_id'))).toEqual([
      'order_id=o1 n=2',
      'order_id=o2 n=1',
      'order_id=o3 n=2',
      'order_id=o4 n=1',
    ]);
  });

  test('lookup: grouped left join aggregates; no right rows → defaults', async () => {
    sb.file('items_1.csv', 'o3,3,12.50\no3,1,49.90\n');
    await sb.run('read_orders');
    await sb.run('read_items');
    await sb.run('order_totals');
    expect(show(await sb.rows('order_totals', 'order_id'))).toEqual([
      'order_id=o1 customer=alice total=15.7 n=2 top_price=12.5',
      'order_id=o2 customer=bob total=18 n=1 top_price=18',
      'order_id=o3 customer=Älice total=62.4 n=2 top_price=49.9',
      'order_id=o4 customer=alice total=0 n=0 top_price=-1',
    ]);
  });

  test('tag_and_denormalize: one row per matching tag', async () => {
    await sb.run('read_orders');
    await sb.run('read_items');
    await sb.run('order_totals');
    await sb.run('tagged_orders');
    expect(show(await sb.rows('tagged_orders')).sort()).toEqual([
      'tag=alice order_id=o1',
      'tag=alice order_id=o4',
      'tag=big order_id=o3',
    ]);
  });

  test('table_file: top order, %05d batch file names, CSV formats and quoting', async () => {
    await sb.run('read_orders');
    await sb.run('read_items');
    await sb.run('order_totals');
    const res = await sb.run('file_totals');
    expect(res.map((r) => r.filesWritten[0]!.replace(sb.dir, ''))).toEqual([
      '/out/totals_00000.csv',
      '/out/totals_00001.csv',
    ]);
    const all = (sb.read('out/totals_00000.csv') + sb.read('out/totals_00001.csv'))
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('order_id'));
    expect(all.sort()).toEqual(
      ['o1,   15.70,002', 'o2,   18.00,001', 'o3,   62.40,002', 'o4,    3.21,001'].sort(),
    );
    expect(sb.read('out/totals_00000.csv').startsWith('order_id,"total,eur",n\r\n')).toBe(true);
    // within one file, rows come largest total first
    for (const f of ['out/totals_00000.csv', 'out/totals_00001.csv']) {
      const totals = sb
        .read(f)
        .split('\n')
        .slice(1)
        .filter((l) => l !== '')
        .map((l) => Number(l.split(',')[1]));
      expect(totals).toEqual([...totals].sort((a, b) => b - a));
    }
  });

  test('table_file: top.limit keeps the smallest order keys only, in order', async () => {
    await sb.load(shopNodes({ top_prices: topPricesNode(3) }));
    await sb.run('read_items');
    const [res] = await sb.run('top_prices');
    expect(res!.rowsIn).toBe(7);
    expect(res!.rowsOut).toBe(3);
    // 12.50 twice (o1, o3): the tie is broken by order_id
    expect(sb.read('out/top_prices.csv')).toBe('order_id,price\r\no3,49.90\no2,18.00\no1,12.50\n');
  });

  test('table_file: top.limit over more rows than it keeps in memory at once', async () => {
    await sb.load(shopNodes({ top_prices: topPricesNode(5) }));
    // 3,000 rows in a shuffled order; prices 0.01 … 30.00
    const ids = Array.from({ length: 3000 }, (_, i) => (i * 1237) % 3000);
    sb.file(
      'items_0.csv',
      ids.map((i) => `x${String(i).padStart(4, '0')},1,${((i + 1) / 100).toFixed(2)}`).join('\n') + '\n',
    );
    sb.file('items_1.csv', '');
    await sb.run('read_items');
    const [res] = await sb.run('top_prices');
    expect(res!.rowsIn).toBe(3000);
    expect(sb.read('out/top_prices.csv')).toBe(
      'order_id,price\r\nx2999,30.00\nx2998,29.99\nx2997,29.98\nx2996,29.97\nx2995,29.96\n',
    );
  });

  test('a re-processed batch overwrites its own rows: no duplicates', async () => {
    await sb.run('read_items');
    await sb.run('read_items', { only: 1, rerun: true });
    await sb.run('read_items', { only: 1, rerun: true });
    expect(await sb.rows('items')).toHaveLength(7);
    await sb.run('read_orders');
    await sb.run('read_orders', { rerun: true });
    expect(await sb.rows('orders')).toHaveLength(4);
  });

  test('a re-run that writes fewer rows removes the rows of the earlier attempt', async () => {
    await sb.run('read_items');
    sb.file('items_1.csv', 'o3,3,12.50\n');
    await sb.run('read_items', { only: 1, rerun: true });
    expect(await sb.rows('items')).toHaveLength(4);
  });

  test('NodeStatus constants are the Capillaries codes', () => {
    expect([
      NodeStatus.None,
      NodeStatus.Start,
      NodeStatus.Success,
      NodeStatus.Fail,
      NodeStatus.StopReceived,
    ]).toEqual([0, 1, 2, 3, 104]);
  });
});
