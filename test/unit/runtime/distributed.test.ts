import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  batchMessages,
  createBatchHandler,
  createEngineIo,
  runScriptLoader,
  startRun,
} from '../../../src/runtime/index.js';
import { MemoryQueue } from '../../../src/queue/index.js';
import { loadScript } from '../../../src/script/index.js';
import {
  EmbeddedStore,
  isDistributedStore,
  NodeStatus,
  type DistributedStore,
  type LeaseStore,
  type RunOverridesStore,
} from '../../../src/store/index.js';
import { ITEMS_CSV_0, ORDERS_CSV, shopNodes } from '../engine/fixture.js';
import { POLICY } from '../engine/helpers.js';

/** The embedded store plus in-memory leases and run overrides: a stand-in for the distributed store's extras. */
function withDistributedExtras(
  store: EmbeddedStore,
): DistributedStore & { leases: Map<string, { owner: string; until: number }> } {
  const leases = new Map<string, { owner: string; until: number }>();
  const overrides = new Map<string, Record<string, string>>();
  const extras: LeaseStore & RunOverridesStore = {
    async putRunOverrides(ks, runId, o) {
      overrides.set(`${ks}/${runId}`, { ...o });
    },
    async getRunOverrides(ks, runId) {
      return { ...(overrides.get(`${ks}/${runId}`) ?? {}) };
    },
    async acquireLease(ks, name, owner, ttlMs) {
      const cur = leases.get(`${ks}/${name}`);
      if (cur && cur.owner !== owner && cur.until > Date.now()) return false;
      leases.set(`${ks}/${name}`, { owner, until: Date.now() + ttlMs });
      return true;
    },
    async renewLease(ks, name, owner, ttlMs) {
      const cur = leases.get(`${ks}/${name}`);
      if (!cur || cur.owner !== owner) return false;
      cur.until = Date.now() + ttlMs;
      return true;
    },
    async releaseLease(ks, name, owner) {
      if (leases.get(`${ks}/${name}`)?.owner === owner) leases.delete(`${ks}/${name}`);
    },
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'leases') return leases;
      if (typeof prop === 'string' && prop in extras) return extras[prop as keyof typeof extras];
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as unknown as DistributedStore & { leases: Map<string, { owner: string; until: number }> };
}

describe('handler with a distributed store: batch leases and run overrides', () => {
  let dir: string;
  let embedded: EmbeddedStore;
  let store: ReturnType<typeof withDistributedExtras>;
  let queue: MemoryQueue;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-dist-'));
    fs.writeFileSync(path.join(dir, 'orders.csv'), ORDERS_CSV);
    fs.writeFileSync(path.join(dir, 'items_0.csv'), ITEMS_CSV_0);
    fs.writeFileSync(path.join(dir, 'items_1.csv'), 'o3,3,12.50\n');
    embedded = new EmbeddedStore({ stateDir: path.join(dir, 'state') });
    store = withDistributedExtras(embedded);
    queue = new MemoryQueue();
  });

  afterEach(async () => {
    await queue.close();
    await embedded.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function setup() {
    expect(isDistributedStore(store)).toBe(true);
    const scriptUrl = path.join(dir, 'script.json');
    fs.writeFileSync(scriptUrl, JSON.stringify({ nodes: shopNodes(), dependency_policies: { p: POLICY } }));
    fs.writeFileSync(path.join(dir, 'params.json'), JSON.stringify({ dir: '/not/here' }));
    const io = createEngineIo();
    const overrides = { dir };
    const script = await loadScript({
      scriptUrl,
      paramsUrl: path.join(dir, 'params.json'),
      overrides,
      readText: (u) => io.readText(u),
    });
    const { runId } = await startRun({
      store,
      queue,
      ks: 'ks',
      script,
      startNodes: ['read_items'],
      scriptUrl,
      paramsUrl: path.join(dir, 'params.json'),
      overrides,
    });
    // workers load the script from the run: the recorded overrides make it the same script
    const handler = createBatchHandler({
      store,
      queue,
      io,
      getScript: runScriptLoader(store, { readText: (u) => io.readText(u) }),
    });
    const [m0, m1] = batchMessages('ks', runId, script.nodes.get('read_items')!);
    return { runId, handler, m0: m0!, m1: m1! };
  }

  test('the run records its overrides and a worker loads the script with them', async () => {
    const { runId, handler, m0 } = await setup();
    expect(await store.getRunOverrides('ks', runId)).toEqual({ dir });
    expect(await handler(m0)).toEqual({ kind: 'ack' });
    expect(await store.countRows('ks', { name: 'items', runId })).toBe(3);
    expect(store.leases.size).toBe(0); // released after the batch
  });

  test('a batch whose lease another worker holds is retried later', async () => {
    const { runId, handler, m0 } = await setup();
    await store.acquireLease('ks', `batch/${runId}/read_items/0`, 'other-worker', 60_000);
    const d = await handler(m0);
    expect(d.kind).toBe('retry');
    expect(d.kind === 'retry' && d.reason).toMatch(/holds the batch lease/);
    expect(await store.getBatchHistory('ks', runId, 'read_items')).toEqual([]);
  });

  test('a started batch whose worker died (lease expired) is taken over at once', async () => {
    const { runId, handler, m1 } = await setup();
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
    // max_batch_processing_time is 60 s, but no lease is held: no waiting
    expect(await handler({ ...m1, attempt: 1 })).toEqual({ kind: 'ack' });
    expect(await store.countRows('ks', { name: 'items', runId })).toBe(1);
  });
});
