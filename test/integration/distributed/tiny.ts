import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A two-node script (file → table → file) for the distributed tests that need a small, quick run. */
export const POLICY = {
  is_default: true,
  event_priority_order: 'run_is_current(desc), run_id(desc)',
  rules: [
    {
      cmd: 'go',
      expression:
        'nrs.run_is_current == true && nrs.run_status == wfmodel.RunStart && nrs.node_status == wfmodel.NodeBatchSuccess',
    },
    {
      cmd: 'wait',
      expression:
        'nrs.run_is_current == true && nrs.run_status == wfmodel.RunStart && (nrs.node_status == wfmodel.NodeBatchNone || nrs.node_status == wfmodel.NodeBatchStart)',
    },
    {
      cmd: 'nogo',
      expression:
        'nrs.run_is_current == true && nrs.run_status == wfmodel.RunStart && nrs.node_status == wfmodel.NodeBatchFail',
    },
  ],
};

export function tinyScript(inputUrl = '{dir_in}/orders.csv'): unknown {
  return {
    nodes: {
      read_orders: {
        type: 'file_table',
        r: {
          urls: [inputUrl],
          csv: { hdr_line_idx: 0, first_data_line_idx: 1 },
          columns: {
            col_id: { csv: { col_hdr: 'order_id' }, col_type: 'string' },
            col_amount: { csv: { col_hdr: 'amount', col_format: '%d' }, col_type: 'int' },
          },
        },
        w: {
          name: 'orders',
          fields: {
            order_id: { expression: 'r.col_id', type: 'string' },
            amount: { expression: 'r.col_amount', type: 'int' },
          },
        },
      },
      write_orders: {
        type: 'table_file',
        r: { table: 'orders', expected_batches_total: 2 },
        w: {
          url_template: '{dir_out}/orders_{batch_idx}.csv',
          columns: [
            {
              name: 'order_id',
              expression: 'r.order_id',
              type: 'string',
              csv: { header: 'order_id', format: '%s' },
            },
            {
              name: 'amount',
              expression: 'r.amount * 2',
              type: 'int',
              csv: { header: 'amount', format: '%d' },
            },
          ],
          top: { order: 'order_id(asc)' },
        },
      },
    },
    dependency_policies: { default_policy: POLICY },
  };
}

export interface TinyCase {
  readonly dir: string;
  readonly script: string;
  readonly params: string;
  readonly in: string;
  readonly out: string;
}

/** Writes the tiny script, its params and an input of `rows` orders into a fresh directory. */
export function tinyCase(rows = 50, script: unknown = tinyScript()): TinyCase {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-dist-tiny-'));
  const input = path.join(dir, 'in');
  const out = path.join(dir, 'out');
  fs.mkdirSync(input);
  fs.mkdirSync(out);
  const lines = ['order_id,amount'];
  for (let i = 0; i < rows; i++) lines.push(`o${String(i).padStart(4, '0')},${i}`);
  fs.writeFileSync(path.join(input, 'orders.csv'), lines.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'script.json'), JSON.stringify(script, null, 1));
  fs.writeFileSync(path.join(dir, 'params.json'), JSON.stringify({ dir_in: input, dir_out: out }));
  return {
    dir,
    script: path.join(dir, 'script.json'),
    params: path.join(dir, 'params.json'),
    in: input,
    out,
  };
}
