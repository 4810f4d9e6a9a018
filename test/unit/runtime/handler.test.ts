import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { batchMessages, createBatchHandler, createEngineIo, startRun } from '../../../src/runtime/index.js';
import { MemoryQueue } from '../../../src/queue/index.js';
import { loadScript } from '../../../src/script/index.js';
import { EmbeddedStore, NodeStatus } from '../../../src/store/index.js';
import { ITEMS_CSV_0, ORDERS_CSV, shopNodes } from '../engine/fixture.js';
import { POLICY } from '../engine/helpers.js';

describe('batch handler: redelivery and reruns', () => {
  let dir: string;
  let store: EmbeddedStore;
  let queue: MemoryQueue;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-handler-'));
    fs.writeFileSync(path.join(dir, 'orders.csv'), ORDERS_CSV);
    fs.writeFileSync(path.join(dir, 'items_0.csv'), ITEMS_CSV_0);
    fs.writeFileSync(path.join(dir, 'items_1.csv'), 'o3,3,12.50\no3,1,49.90\no4,2,3.20\n');
    store = new EmbeddedStore({ stateDir: path.join(dir, 'state') });
    queue = new MemoryQueue();
  });

  afterEach(async () => {
    await queue.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function setup(maxBatchMs: number) {
    const nodes = shopNodes();
    (nodes['read_items'] as Record<string, unknown>)['max_batch_processing_time'] = maxBatchMs;
    const scriptUrl = path.join(dir, 'script.json');
    fs.writeFileSync(scriptUrl, JSON.stringify({ nodes, dependency_policies: { p: POLICY } }));
    const io = createEngineIo();
    const script = await loadScript({ scriptUrl, overrides: { dir }, readText: (u) => io.readText(u) });
    const { runId } = await startRun({
      store,
      queue,
      ks: 'ks',
      script,
      startNodes: ['read_items'],
      scriptUrl,
    });
    const handler = createBatchHandler({ store, queue, io, getScript: async () => script });
    const node = script.nodes.get('read_items')!;
    const [m0, m1] = batchMessages('ks', runId, node);
    return { runId, handler, m0: m0!, m1: m1! };
  }

  test('a batch found started by a dead worker is processed again after the grace time, leftovers removed', async () => {
    const { runId, handler, m1 } = await setup(1);
    // first attempt: processed completely, then the worker "died" before recording success
    expect(await handler(m1)).toEqual({ kind: 'ack' });
    expect(await store.countRows('ks', { name: 'items', runId })).toBe(3);
    await store.putBatchStatus('ks', {
      runId,
      node: 'read_items',
      batchIdx: 1,
      batchesTotal: 2,
      status: NodeStatus.Start,
      firstToken: 1n,
      lastToken: 1n,
      instance: 'dead-worker',
      thread: 0,
      comment: '',
    });
    // the input changed meanwhile: the re-run writes fewer rows, the extra ones of the first attempt go
    fs.writeFileSync(path.join(dir, 'items_1.csv'), 'o3,3,12.50\n');
    await new Promise((r) => setTimeout(r, 5));
    expect(await handler({ ...m1, attempt: 1 })).toEqual({ kind: 'ack' });
    expect(await store.countRows('ks', { name: 'items', runId })).toBe(1);
  });

  test('within the grace time another worker may still own the batch: retry later', async () => {
    const { runId, handler, m0 } = await setup(60_000);
    await store.putBatchStatus('ks', {
      runId,
      node: 'read_items',
      batchIdx: 0,
      batchesTotal: 2,
      status: NodeStatus.Start,
      firstToken: 0n,
      lastToken: 0n,
      instance: 'other-worker',
      thread: 0,
      comment: '',
    });
    const d = await handler(m0);
    expect(d.kind).toBe('retry');
    expect(d.kind === 'retry' && d.delayMs).toBeGreaterThan(50_000);
  });

  test('a message delivered again after success changes nothing', async () => {
    const { runId, handler, m0, m1 } = await setup(60_000);
    await handler(m0);
    await handler(m1);
    const before = await store.getBatchHistory('ks', runId, 'read_items');
    expect(await handler(m0)).toEqual({ kind: 'ack' });
    expect(await store.countRows('ks', { name: 'items', runId })).toBe(6);
    const after = await store.getBatchHistory('ks', runId, 'read_items');
    expect(after.length).toBe(before.length);
  });
});

describe('batch handler: a script that cannot be loaded', () => {
  test('fails the batch with the reason and dead-letters the message', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-handler-'));
    const store = new EmbeddedStore({ stateDir: path.join(dir, 'state') });
    const queue = new MemoryQueue();
    try {
      fs.writeFileSync(path.join(dir, 'orders.csv'), ORDERS_CSV);
      const scriptUrl = path.join(dir, 'script.json');
      fs.writeFileSync(scriptUrl, JSON.stringify({ nodes: shopNodes(), dependency_policies: { p: POLICY } }));
      const io = createEngineIo();
      const script = await loadScript({ scriptUrl, overrides: { dir }, readText: (u) => io.readText(u) });
      const { runId } = await startRun({
        store,
        queue,
        ks: 'ks',
        script,
        startNodes: ['read_orders'],
        scriptUrl,
      });
      const handler = createBatchHandler({
        store,
        queue,
        io,
        getScript: async () => {
          throw new Error('script.json: nodes.read_orders.type: unknown node type');
        },
      });
      const [m0] = batchMessages('ks', runId, script.nodes.get('read_orders')!);
      const d = await handler(m0!);
      expect(d.kind).toBe('dead');
      expect(d.kind === 'dead' && d.reason).toMatch(
        /cannot load the script of run 1: script.json: nodes.read_orders.type/,
      );
      const history = await store.getBatchHistory('ks', runId, 'read_orders');
      expect(history.map((h) => h.status)).toEqual([NodeStatus.Fail]);
    } finally {
      await queue.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
