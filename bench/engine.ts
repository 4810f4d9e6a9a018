/**
 * Engine benchmark: a lookup data set of 1,000,000 order items (deterministic seed) loaded, joined with a
 * grouped lookup and written to CSV, once with --workers 1 and once with --workers 2. Each configuration
 * runs in its own process so that peak RSS is its own. Reports rows/s per node, total time and peak RSS.
 *
 *   npm run bench -- engine [--items 1000000] [--files 10] [--keep]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ChildReport {
  readonly workers: number;
  readonly ok: boolean;
  readonly elapsedMs: number;
  readonly maxRssMb: number;
  readonly nodes: { node: string; rowsIn: number; rowsOut: number; elapsedMs: number; status: number }[];
}

/** mulberry32: small deterministic PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(r() * 16).toString(16);
  return s;
}

/** Writes orders and order items CSVs split over `files` files each; returns the item count written. */
export function generate(dir: string, items: number, files: number): { orders: number; items: number } {
  const r = rng(20240501);
  const orderFiles = Array.from({ length: files }, (_, i) =>
    fs.openSync(path.join(dir, `orders_${i}.csv`), 'w'),
  );
  const itemFiles = Array.from({ length: files }, (_, i) =>
    fs.openSync(path.join(dir, `items_${i}.csv`), 'w'),
  );
  for (const fd of orderFiles) fs.writeSync(fd, 'order_id,order_status,order_purchase_timestamp\n');
  for (const fd of itemFiles) {
    fs.writeSync(fd, 'order_id,order_item_id,product_id,seller_id,shipping_limit_date,price,freight_value\n');
  }
  let written = 0;
  let orders = 0;
  const base = Date.UTC(2017, 0, 1) / 1000;
  const ob: string[][] = orderFiles.map(() => []);
  const ib: string[][] = itemFiles.map(() => []);
  const flush = (force: boolean): void => {
    for (let f = 0; f < files; f++) {
      if (force || ob[f]!.length > 5000) {
        fs.writeSync(orderFiles[f]!, ob[f]!.join(''));
        ob[f] = [];
      }
      if (force || ib[f]!.length > 5000) {
        fs.writeSync(itemFiles[f]!, ib[f]!.join(''));
        ib[f] = [];
      }
    }
  };
  while (written < items) {
    const id = hex(r, 32);
    const f = orders % files;
    const ts = new Date((base + Math.floor(r() * 3 * 365 * 86400)) * 1000)
      .toISOString()
      .slice(0, 19)
      .replace('T', ' ');
    ob[f]!.push(`${id},delivered,${ts}\n`);
    orders++;
    const n = Math.min(items - written, 1 + Math.floor(r() * 4));
    for (let k = 1; k <= n; k++) {
      const price = (5 + r() * 500).toFixed(2);
      const freight = (r() * 40).toFixed(2);
      ib[(orders * 7 + k) % files]!.push(
        `${id},${k},${hex(r, 32)},${hex(r, 32)},${ts},${price},${freight}\n`,
      );
    }
    written += n;
    flush(false);
  }
  flush(true);
  for (const fd of [...orderFiles, ...itemFiles]) fs.closeSync(fd);
  return { orders, items: written };
}

export function benchScript(files: number, batches: number): unknown {
  const urls = (p: string): string[] => Array.from({ length: files }, (_, i) => `{dir_in}/${p}_${i}.csv`);
  const policy = {
    is_default: true,
    event_priority_order: 'run_is_current(desc), run_id(desc)',
    rules: [
      {
        cmd: 'go',
        expression:
          'nrs.run_is_current == true && nrs.run_status == wfmodel.RunStart && nrs.node_status == wfmodel.NodeBatchSuccess',
      },
      {
        cmd: 'nogo',
        expression:
          'nrs.run_is_current == true && nrs.run_status == wfmodel.RunStart && nrs.node_status == wfmodel.NodeBatchFail',
      },
      {
        cmd: 'go',
        expression:
          'nrs.run_is_current == false && nrs.run_status == wfmodel.RunComplete && nrs.node_status == wfmodel.NodeBatchSuccess',
      },
    ],
  };
  return {
    nodes: {
      read_orders: {
        type: 'file_table',
        r: {
          urls: urls('orders'),
          csv: { hdr_line_idx: 0, first_data_line_idx: 1 },
          columns: {
            col_order_id: { csv: { col_hdr: 'order_id' }, col_type: 'string' },
            col_order_status: { csv: { col_hdr: 'order_status' }, col_type: 'string' },
            col_ts: {
              csv: { col_hdr: 'order_purchase_timestamp', col_format: '2006-01-02 15:04:05' },
              col_type: 'datetime',
            },
          },
        },
        w: {
          name: 'orders',
          fields: {
            order_id: { expression: 'r.col_order_id', type: 'string' },
            order_status: { expression: 'r.col_order_status', type: 'string' },
            order_purchase_timestamp: { expression: 'r.col_ts', type: 'datetime' },
          },
        },
      },
      read_order_items: {
        type: 'file_table',
        r: {
          urls: urls('items'),
          csv: { hdr_line_idx: 0, first_data_line_idx: 1 },
          columns: {
            col_order_id: { csv: { col_idx: 0 }, col_type: 'string' },
            col_order_item_id: { csv: { col_idx: 1, col_format: '%d' }, col_type: 'int' },
            col_product_id: { csv: { col_idx: 2 }, col_type: 'string' },
            col_price: { csv: { col_idx: 5, col_format: '%f' }, col_type: 'decimal2' },
            col_freight_value: { csv: { col_idx: 6, col_format: '%f' }, col_type: 'decimal2' },
          },
        },
        w: {
          name: 'order_items',
          fields: {
            order_id: { expression: 'r.col_order_id', type: 'string' },
            order_item_id: { expression: 'r.col_order_item_id', type: 'int' },
            product_id: { expression: 'r.col_product_id', type: 'string' },
            value: { expression: 'r.col_price+r.col_freight_value', type: 'decimal2' },
          },
          indexes: { idx_order_items_order_id: 'non_unique(order_id(case_sensitive))' },
        },
      },
      order_totals: {
        type: 'table_lookup_table',
        r: { table: 'orders', expected_batches_total: batches },
        l: { index_name: 'idx_order_items_order_id', join_on: 'r.order_id', group: true, join_type: 'left' },
        w: {
          name: 'order_totals',
          fields: {
            order_id: { expression: 'r.order_id', type: 'string' },
            order_purchase_timestamp: { expression: 'r.order_purchase_timestamp', type: 'datetime' },
            total_value: { expression: 'sum(l.value)', type: 'decimal2' },
            max_product_id: { expression: 'max(l.product_id)', type: 'string' },
            item_count: { expression: 'count()', type: 'int' },
          },
        },
      },
      file_order_totals: {
        type: 'table_file',
        r: { table: 'order_totals', expected_batches_total: batches },
        w: {
          url_template: '{dir_out}/order_totals_{batch_idx}.csv',
          columns: [
            {
              name: 'order_id',
              expression: 'r.order_id',
              type: 'string',
              csv: { header: 'order_id', format: '%s' },
            },
            {
              name: 'ts',
              expression: 'r.order_purchase_timestamp',
              type: 'datetime',
              csv: { header: 'ts', format: '2006-01-02 15:04:05' },
            },
            {
              name: 'total',
              expression: 'r.total_value',
              type: 'decimal2',
              csv: { header: 'total', format: '%s' },
            },
            {
              name: 'items',
              expression: 'r.item_count',
              type: 'int',
              csv: { header: 'items', format: '%d' },
            },
          ],
        },
      },
    },
    dependency_policies: { default_policy: policy },
  };
}

/** Child mode: one local run, prints a JSON report on stdout. */
async function child(dir: string, workers: number): Promise<void> {
  const { runLocal, createEngineIo } = await import('../src/runtime/index.js');
  const state = path.join(dir, `state_w${workers}`);
  fs.rmSync(state, { recursive: true, force: true });
  const out = path.join(dir, `out_w${workers}`);
  fs.mkdirSync(out, { recursive: true });
  const res = await runLocal({
    stateDir: state,
    ks: 'bench',
    scriptUrl: path.join(dir, 'script.json'),
    paramsUrl: path.join(dir, 'params.json'),
    overrides: { dir_out: out },
    startNodes: ['read_orders', 'read_order_items'],
    workers,
    io: createEngineIo(),
  });
  const report: ChildReport = {
    workers,
    ok: res.ok,
    elapsedMs: res.elapsedMs,
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    nodes: res.nodes.map((n) => ({
      node: n.node,
      rowsIn: n.rowsIn,
      rowsOut: n.rowsOut,
      elapsedMs: n.elapsedMs,
      status: n.status,
    })),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

function runChild(dir: string, workers: number): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const self = fileURLToPath(import.meta.url);
    const p = spawn(process.execPath, [...process.execArgv, self, '--child', dir, String(workers)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{'))
        reject(new Error(`benchmark child (workers ${workers}) exited with ${code}: ${out}`));
      else resolve(JSON.parse(line) as ChildReport);
    });
  });
}

function argValue(args: readonly string[], name: string, def: number): number {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : def;
}

export async function runEngineBench(args: readonly string[]): Promise<void> {
  const items = argValue(args, '--items', 1_000_000);
  const files = argValue(args, '--files', 10);
  const batches = argValue(args, '--batches', 10);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-bench-engine-'));
  const inDir = path.join(dir, 'in');
  fs.mkdirSync(inDir);
  const t0 = Date.now();
  const gen = generate(inDir, items, files);
  process.stdout.write(
    `engine benchmark: ${gen.items} order items, ${gen.orders} orders in ${files}+${files} CSV files (generated in ${Date.now() - t0} ms)\n`,
  );
  fs.writeFileSync(path.join(dir, 'script.json'), JSON.stringify(benchScript(files, batches), null, 1));
  fs.writeFileSync(
    path.join(dir, 'params.json'),
    JSON.stringify({ dir_in: inDir, dir_out: path.join(dir, 'out') }),
  );
  const reports: ChildReport[] = [];
  for (const workers of [1, 2]) {
    const rep = await runChild(dir, workers);
    reports.push(rep);
    process.stdout.write(
      `\n--workers ${workers}: ${rep.ok ? 'ok' : 'FAILED'}, total ${(rep.elapsedMs / 1000).toFixed(1)} s, peak RSS ${rep.maxRssMb} MB\n`,
    );
    for (const n of rep.nodes) {
      const rate = n.elapsedMs > 0 ? Math.round((n.rowsIn * 1000) / n.elapsedMs) : 0;
      process.stdout.write(
        `  ${n.node.padEnd(20)} rows in ${String(n.rowsIn).padStart(9)}  out ${String(n.rowsOut).padStart(9)}  ${(n.elapsedMs / 1000).toFixed(1).padStart(6)} s  ${String(rate).padStart(8)} rows/s\n`,
      );
    }
  }
  const [w1, w2] = reports;
  if (w1 && w2)
    process.stdout.write(`\nspeed-up with 2 workers: ${(w1.elapsedMs / w2.elapsedMs).toFixed(2)}x\n`);
  if (args.includes('--keep')) process.stdout.write(`data kept in ${dir}\n`);
  else fs.rmSync(dir, { recursive: true, force: true });
  if (reports.some((r) => !r.ok)) process.exitCode = 1;
}

const selfPath = fileURLToPath(import.meta.url);
if (process.argv[1] && path.resolve(process.argv[1]) === selfPath) {
  const args = process.argv.slice(2);
  const run = args[0] === '--child' ? child(args[1]!, Number(args[2])) : runEngineBench(args);
  run.catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
