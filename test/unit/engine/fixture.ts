/** A small shop script that uses every processor, and its input files. */
export const ORDERS_CSV = [
  'order_id,customer,ordered_at',
  'o1,alice,2024-01-03 10:15:00',
  'o2,bob,2024-01-04 11:00:00',
  'o3,Älice,2024-01-05 09:30:00',
  'o4,alice,2024-01-07 16:45:00',
  'o5,dave,2023-12-31 12:00:00',
  '',
].join('\n');

export const ITEMS_CSV_0 = ['o1,1,12.50', 'o1,2,3.20', 'o2,1,18.00', ''].join('\n');
export const ITEMS_CSV_1 = ['o3,3,12.50', 'o3,1,49.90', 'o4,2,3.205', 'o9,1,1.00', ''].join('\n');

export function shopNodes(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    read_orders: {
      type: 'file_table',
      r: {
        urls: ['{dir}/orders.csv'],
        csv: { hdr_line_idx: 0, first_data_line_idx: 1 },
        columns: {
          col_id: { csv: { col_hdr: 'order_id' }, col_type: 'string' },
          col_customer: { csv: { col_hdr: 'customer' }, col_type: 'string' },
          col_ts: { csv: { col_hdr: 'ordered_at', col_format: '2006-01-02 15:04:05' }, col_type: 'datetime' },
        },
      },
      w: {
        name: 'orders',
        having: 'w.ordered_at >= time.Parse("2006-01-02", "2024-01-01")',
        fields: {
          order_id: { expression: 'r.col_id', type: 'string' },
          customer: { expression: 'r.col_customer', type: 'string' },
          ordered_at: { expression: 'r.col_ts', type: 'datetime' },
        },
        indexes: { idx_orders_id_to_check_uniq: 'unique(order_id)' },
      },
    },
    read_items: {
      type: 'file_table',
      r: {
        urls: ['{dir}/items_0.csv', '{dir}/items_1.csv'],
        columns: {
          col_order_id: { csv: { col_idx: 0 }, col_type: 'string' },
          col_qty: { csv: { col_idx: 1, col_format: '%d' }, col_type: 'int' },
          col_price: { csv: { col_idx: 2, col_format: '%f' }, col_type: 'decimal2' },
        },
      },
      w: {
        name: 'items',
        fields: {
          order_id: { expression: 'r.col_order_id', type: 'string' },
          qty: { expression: 'r.col_qty', type: 'int' },
          price: { expression: 'r.col_price', type: 'decimal2' },
        },
        indexes: { idx_items_order_id: 'non_unique(order_id)' },
      },
    },
    item_values: {
      type: 'table_table',
      r: { table: 'items', expected_batches_total: 3 },
      w: {
        name: 'item_values',
        having: 'w.value > decimal2(20)',
        fields: {
          order_id: { expression: 'r.order_id', type: 'string' },
          value: { expression: 'r.price * decimal2(r.qty)', type: 'decimal2' },
        },
      },
    },
    customers: {
      type: 'distinct_table',
      rerun_policy: 'fail',
      r: { table: 'orders', expected_batches_total: 2 },
      w: {
        name: 'customers',
        fields: { customer: { expression: 'r.customer', type: 'string' } },
        indexes: { idx_customers_customer: 'unique(customer(ignore_case))' },
      },
    },
    order_items_left: {
      type: 'table_lookup_table',
      r: { table: 'orders', expected_batches_total: 2 },
      l: { index_name: 'idx_items_order_id', join_on: 'r.order_id', group: false, join_type: 'left' },
      w: {
        name: 'order_items_left',
        fields: {
          order_id: { expression: 'r.order_id', type: 'string' },
          qty: { expression: 'l.qty', type: 'int', default_value: '-1' },
          price: { expression: 'l.price', type: 'decimal2' },
        },
      },
    },
    order_items_inner: {
      type: 'table_lookup_table',
      r: { table: 'orders' },
      l: {
        index_name: 'idx_items_order_id',
        join_on: 'r.order_id',
        group: false,
        join_type: 'inner',
        filter: 'l.qty < 3',
      },
      w: {
        name: 'order_items_inner',
        fields: {
          order_id: { expression: 'r.order_id', type: 'string' },
          qty: { expression: 'l.qty', type: 'int' },
        },
      },
    },
    order_totals: {
      type: 'table_lookup_table',
      r: { table: 'orders', expected_batches_total: 3 },
      l: { index_name: 'idx_items_order_id', join_on: 'r.order_id', group: true, join_type: 'left' },
      w: {
        name: 'order_totals',
        fields: {
          order_id: { expression: 'r.order_id', type: 'string' },
          customer: { expression: 'r.customer', type: 'string' },
          total: { expression: 'sum(l.price)', type: 'decimal2' },
          n: { expression: 'count()', type: 'int' },
          top_price: { expression: 'max(l.price)', type: 'decimal2', default_value: '-1' },
        },
      },
    },
    tagged_orders: {
      type: 'table_custom_tfm_table',
      custom_proc_type: 'tag_and_denormalize',
      r: { table: 'order_totals', expected_batches_total: 2 },
      p: {
        tag_field_name: 'tag',
        tag_criteria: { big: 'r.total > decimal2(20)', alice: 're.MatchString(`(?i)^alice$`, r.customer)' },
      },
      w: {
        name: 'tagged_orders',
        fields: {
          tag: { expression: 'p.tag', type: 'string' },
          order_id: { expression: 'r.order_id', type: 'string' },
        },
      },
    },
    file_totals: {
      type: 'table_file',
      r: { table: 'order_totals', expected_batches_total: 2 },
      w: {
        url_template: '{dir}/out/totals_{batch_idx}.csv',
        having: 'w.n >= 0',
        top: { order: 'total(desc),order_id' },
        columns: [
          {
            name: 'order_id',
            expression: 'r.order_id',
            type: 'string',
            csv: { header: 'order_id', format: '%s' },
          },
          {
            name: 'total',
            expression: 'r.total',
            type: 'decimal2',
            csv: { header: 'total,eur', format: '%8s' },
          },
          { name: 'n', expression: 'r.n', type: 'int', csv: { header: 'n', format: '%03d' } },
        ],
      },
    },
    ...extra,
  };
}
