import { jest } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseParamOverrides } from '../../../src/cli/common.js';
import { runCli } from './capture.js';
import { ITEMS_CSV_0, ORDERS_CSV, shopNodes } from '../engine/fixture.js';
import { POLICY } from '../engine/helpers.js';

jest.setTimeout(60_000);

const cli = runCli;

describe('plexus CLI', () => {
  let dir: string;
  let script: string;
  let params: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-cli-'));
    fs.writeFileSync(path.join(dir, 'orders.csv'), ORDERS_CSV);
    fs.writeFileSync(path.join(dir, 'items_0.csv'), ITEMS_CSV_0);
    fs.writeFileSync(path.join(dir, 'items_1.csv'), 'o3,3,12.50\n');
    fs.mkdirSync(path.join(dir, 'out'));
    script = path.join(dir, 'script.json');
    params = path.join(dir, 'params.json');
    fs.writeFileSync(script, JSON.stringify({ nodes: shopNodes(), dependency_policies: { p: POLICY } }));
    fs.writeFileSync(params, JSON.stringify({ dir: '/nonexistent' }));
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('--param values become overrides', () => {
    expect(parseParamOverrides(['a=1', 'b=x=y', 'c='])).toEqual({ a: '1', b: 'x=y', c: '' });
    expect(() => parseParamOverrides(['novalue'])).toThrow(/--param novalue: expected key=value/);
  });

  test('run: succeeds, prints a summary with rows and files, exit code 0', async () => {
    const res = await cli(
      'run',
      script,
      '--params',
      params,
      '--keyspace',
      'shop',
      '--start-nodes',
      'read_orders,read_items',
      '--param',
      `dir=${dir}`,
      '--state-dir',
      path.join(dir, 'state'),
      '--workers',
      '1',
    );
    expect(res.stderr).not.toMatch(/error/);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^run 1 in keyspace shop: succeeded/);
    expect(res.stdout).toMatch(/read_orders\s+file_table\s+success\s+1\/1\s+5\s+4/);
    expect(res.stdout).toContain('files written:');
    expect(res.stdout).toContain(path.join(dir, 'out', 'totals_00000.csv'));
    // plain progress lines when stderr is not a terminal
    expect(res.stderr).toContain('read_items: batch 2/2 rows in 1, out 1');
  });

  test('run: a failed batch gives exit code 1 and says which batch failed and why', async () => {
    fs.writeFileSync(path.join(dir, 'items_1.csv'), 'o3,3,12.50\no3,three,1.00\n');
    const res = await cli(
      'run',
      script,
      '--params',
      params,
      '--keyspace',
      'shop',
      '--start-nodes',
      'read_orders,read_items',
      '--param',
      `dir=${dir}`,
      '--state-dir',
      path.join(dir, 'state'),
      '--workers',
      '1',
    );
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/FAILED/);
    expect(res.stdout).toMatch(/node read_items batch 1 failed: \/.*items_1\.csv: line 2, column r\.col_qty/);
    expect(res.stdout).toMatch(/order_totals\s+table_lookup_table\s+fail/);
  });

  test('run: a script error prints the problems, not a stack', async () => {
    fs.writeFileSync(
      script,
      JSON.stringify({ nodes: { x: { type: 'nope' } }, dependency_policies: { p: POLICY } }),
    );
    const res = await cli(
      'run',
      script,
      '--keyspace',
      'k',
      '--start-nodes',
      'x',
      '--state-dir',
      path.join(dir, 's'),
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error: /);
    expect(res.stderr).toContain('nodes.x');
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  test('--debug prints the stack; a missing required option is a usage error', async () => {
    fs.writeFileSync(script, '{not json');
    const res = await cli('--debug', 'validate', script);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/\n\s+at /);
    const usage = await cli('run', script, '--keyspace', 'k');
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain("required option '--start-nodes <a,b>' not specified");
  });

  test('validate: OK with a node count', async () => {
    const res = await cli('validate', script, '--params', params);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(
      /OK: 9 nodes \(2 file_table, 1 table_table, 1 distinct_table, 3 table_lookup_table, 1 table_custom_tfm_table, 1 table_file\), 1 dependency policies/,
    );
  });

  test('dag: dot and svg', async () => {
    const dot = await cli('dag', script, '--params', params, '--format', 'dot');
    expect(dot.code).toBe(0);
    expect(dot.stdout).toContain('digraph plexus {');
    expect(dot.stdout).toContain('"read_items" -> "order_totals" [label="items", style=dashed];');
    expect(dot.stdout).toContain('"read_orders" -> "order_totals" [label="orders"];');
    const out = path.join(dir, 'dag.svg');
    const svg = await cli('dag', script, '--params', params, '--format', 'svg', '-o', out);
    expect(svg.code).toBe(0);
    const text = fs.readFileSync(out, 'utf8');
    expect(text.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    for (const n of ['read_orders', 'order_totals', 'file_totals', 'table_lookup_table'])
      expect(text).toContain(`>${n}<`);
    expect(text).toContain('order_totals</text>');
    const bad = await cli('dag', script, '--params', params, '--format', 'png');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--format png: expected svg or dot');
  });
});
