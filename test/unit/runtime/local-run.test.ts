import { jest } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngineIo, runLocal, stopRun, type RunEvent } from '../../../src/runtime/index.js';
import { EmbeddedStore, NodeStatus, RunStatus } from '../../../src/store/index.js';
import { ITEMS_CSV_0, ORDERS_CSV, shopNodes } from '../engine/fixture.js';
import { POLICY } from '../engine/helpers.js';

jest.setTimeout(60_000);

describe('runLocal', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-runtime-'));
    fs.writeFileSync(path.join(dir, 'orders.csv'), ORDERS_CSV);
    fs.writeFileSync(path.join(dir, 'items_0.csv'), ITEMS_CSV_0);
    fs.writeFileSync(path.join(dir, 'items_1.csv'), 'o3,3,12.50\no3,1,49.90\n');
    fs.mkdirSync(path.join(dir, 'out'));
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function writeScript(nodes: Record<string, unknown>): string {
    const file = path.join(dir, 'script.json');
    fs.writeFileSync(file, JSON.stringify({ nodes, dependency_policies: { p: POLICY } }));
    fs.writeFileSync(path.join(dir, 'params.json'), JSON.stringify({ dir }));
    return file;
  }

  function run(scriptUrl: string, startNodes: string[], events?: RunEvent[]) {
    return runLocal({
      stateDir: path.join(dir, 'state'),
      ks: 'shop',
      scriptUrl,
      paramsUrl: path.join(dir, 'params.json'),
      startNodes,
      workers: 3,
      threads: false,
      io: createEngineIo(),
      onEvent: (e) => events?.push(e),
    });
  }

  test('a whole run: every node succeeds, children run after their parents, files are listed', async () => {
    const events: RunEvent[] = [];
    const res = await run(writeScript(shopNodes()), ['read_orders', 'read_items'], events);
    expect(res.ok).toBe(true);
    expect(res.runId).toBe(1);
    expect(res.runStatus).toBe(RunStatus.Complete);
    expect(res.nodes.map((n) => [n.node, n.status])).toEqual(
      res.nodes.map((n) => [n.node, NodeStatus.Success]),
    );
    expect(res.nodes).toHaveLength(9);
    const totals = res.nodes.find((n) => n.node === 'order_totals')!;
    expect(totals.batchesTotal).toBe(3);
    expect(totals.rowsIn).toBe(4);
    expect(res.files.map((f) => path.basename(f))).toEqual(['totals_00000.csv', 'totals_00001.csv']);
    // a child's first batch starts after the last batch of each parent ended
    const order = events.filter((e) => e.kind === 'batch-start' || e.kind === 'batch-end');
    const firstStart = (n: string): number =>
      order.findIndex((e) => e.kind === 'batch-start' && e.node === n);
    const lastEnd = (n: string): number =>
      order
        .map((e, i) => (e.kind === 'batch-end' && e.node === n ? i : -1))
        .reduce((a, b) => Math.max(a, b), -1);
    expect(firstStart('order_totals')).toBeGreaterThan(lastEnd('read_orders'));
    expect(firstStart('order_totals')).toBeGreaterThan(lastEnd('read_items'));
    expect(firstStart('file_totals')).toBeGreaterThan(lastEnd('order_totals'));
    expect(events.filter((e) => e.kind === 'run-end')).toHaveLength(1);
  });

  test('worker threads: the same results with batches in two threads', async () => {
    const res = await runLocal({
      stateDir: path.join(dir, 'state'),
      ks: 'shop',
      scriptUrl: writeScript(shopNodes()),
      paramsUrl: path.join(dir, 'params.json'),
      startNodes: ['read_orders', 'read_items'],
      workers: 2,
      threads: true,
      io: createEngineIo(),
    });
    expect(res.ok).toBe(true);
    expect(res.nodes.find((n) => n.node === 'order_totals')!.rowsOut).toBe(4);
    expect(res.nodes.find((n) => n.node === 'read_items')!.rowsOut).toBe(5);
    // every batch ran in a worker thread
    const store = new EmbeddedStore({ stateDir: path.join(dir, 'state') });
    try {
      const history = await store.getBatchHistory('shop', res.runId);
      expect(history.length).toBeGreaterThan(0);
      expect(history.every((h) => /\/t\d+$/.test(h.instance))).toBe(true);
    } finally {
      await store.close();
    }
    expect(fs.readFileSync(path.join(dir, 'out', 'totals_00000.csv'), 'utf8')).toMatch(
      /^order_id,"total,eur",n\r\n/,
    );
  });

  test('a failed batch fails its node and every node downstream; nothing is reported as success', async () => {
    fs.writeFileSync(path.join(dir, 'items_1.csv'), 'o3,3,12.50\no3,x,49.90\n');
    const res = await run(writeScript(shopNodes()), ['read_orders', 'read_items']);
    expect(res.ok).toBe(false);
    expect(res.runStatus).toBe(RunStatus.Complete);
    const byName = new Map(res.nodes.map((n) => [n.node, n]));
    expect(byName.get('read_orders')!.status).toBe(NodeStatus.Success);
    const items = byName.get('read_items')!;
    expect(items.status).toBe(NodeStatus.Fail);
    expect(items.failures).toHaveLength(1);
    expect(items.failures[0]!.batchIdx).toBe(1);
    expect(items.failures[0]!.message).toContain('items_1.csv');
    for (const n of [
      'item_values',
      'order_items_left',
      'order_items_inner',
      'order_totals',
      'tagged_orders',
      'file_totals',
    ]) {
      expect([n, byName.get(n)!.status]).toEqual([n, NodeStatus.Fail]);
    }
    expect(byName.get('customers')!.status).toBe(NodeStatus.Success);
    expect(res.files).toEqual([]);
    expect(fs.existsSync(path.join(dir, 'out', 'totals_00000.csv'))).toBe(false);
  });

  test("manual nodes wait for a later run in the same keyspace, which reads the first run's tables", async () => {
    const nodes = shopNodes();
    (nodes['order_totals'] as Record<string, unknown>)['start_policy'] = 'manual';
    const script = writeScript(nodes);
    const first = await run(script, ['read_orders', 'read_items']);
    expect(first.ok).toBe(true);
    const firstNodes = first.nodes.map((n) => n.node);
    expect(firstNodes).not.toContain('order_totals');
    expect(firstNodes).not.toContain('file_totals');
    expect(firstNodes).not.toContain('tagged_orders');
    const second = await run(script, ['order_totals']);
    expect(second.ok).toBe(true);
    expect(second.runId).toBe(2);
    expect(second.nodes.map((n) => n.node).sort()).toEqual(['file_totals', 'order_totals', 'tagged_orders']);
    expect(second.nodes.find((n) => n.node === 'order_totals')!.rowsOut).toBe(4);
    const store = new EmbeddedStore({ stateDir: path.join(dir, 'state') });
    try {
      expect(await store.countRows('shop', { name: 'order_totals', runId: 2 })).toBe(4);
      expect(await store.countRows('shop', { name: 'orders', runId: 1 })).toBe(4);
    } finally {
      await store.close();
    }
  });

  test('a stopped run is not read: its consumers in a later run get nogo', async () => {
    const nodes = shopNodes();
    (nodes['order_totals'] as Record<string, unknown>)['start_policy'] = 'manual';
    const script = writeScript(nodes);
    expect((await run(script, ['read_orders', 'read_items'])).ok).toBe(true);
    const store = new EmbeddedStore({ stateDir: path.join(dir, 'state') });
    try {
      expect(await stopRun(store, 'shop', 1, 'wrong input files')).toBe(true);
      await expect(stopRun(store, 'shop', 7, 'x')).rejects.toThrow(/keyspace shop has no run 7/);
    } finally {
      await store.close();
    }
    const second = await run(script, ['order_totals']);
    expect(second.ok).toBe(false);
    const totals = second.nodes.find((n) => n.node === 'order_totals')!;
    expect(totals.status).toBe(NodeStatus.Fail);
    expect(totals.failures[0]!.message).toMatch(
      /dependencies not met: read_orders is success in run 1 \(run stop\): nogo by rule 5 of policy p/,
    );
    // a new run of the loaders makes the manual node runnable again
    expect((await run(script, ['read_orders', 'read_items'])).ok).toBe(true);
    const fourth = await run(script, ['order_totals']);
    expect(fourth.ok).toBe(true);
    expect(fourth.runId).toBe(4);
  });

  test('aborting stops the run: no node succeeds after the stop, the run ends as stopped', async () => {
    const abort = new AbortController();
    const res = await runLocal({
      stateDir: path.join(dir, 'state'),
      ks: 'shop',
      scriptUrl: writeScript(shopNodes()),
      paramsUrl: path.join(dir, 'params.json'),
      startNodes: ['read_orders', 'read_items'],
      workers: 1,
      threads: false,
      io: createEngineIo(),
      signal: abort.signal,
      onStart: () => abort.abort(),
    });
    expect(res.ok).toBe(false);
    expect(res.runStatus).toBe(RunStatus.Stop);
    const statuses = new Set(res.nodes.map((n) => n.status));
    expect(statuses.has(NodeStatus.Fail)).toBe(false);
    expect(res.nodes.find((n) => n.node === 'file_totals')!.status).toBe(NodeStatus.StopReceived);
    expect(res.files).toEqual([]);
  });

  test('a node whose dependency never ran fails with a message saying so', async () => {
    const script = writeScript(shopNodes());
    const res = await run(script, ['order_totals']);
    expect(res.ok).toBe(false);
    const totals = res.nodes.find((n) => n.node === 'order_totals')!;
    expect(totals.status).toBe(NodeStatus.Fail);
    expect(totals.failures[0]!.message).toMatch(/never run/);
  });

  test('unknown start nodes are refused before anything runs', async () => {
    const script = writeScript(shopNodes());
    await expect(run(script, ['read_order'])).rejects.toThrow(
      /start node\(s\) not in the script: read_order/,
    );
  });
});
