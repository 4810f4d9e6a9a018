import fs from 'node:fs';
import type { BatchMessage, BatchQueue, QueueCounts } from '../../../src/queue/index.js';
import { MemoryQueue } from '../../../src/queue/index.js';
import { createEngineIo, startRun } from '../../../src/runtime/index.js';
import { loadScript, type Script } from '../../../src/script/index.js';
import {
  EmbeddedStore,
  NodeStatus,
  type DistributedStore,
  type LeaseStore,
  type RunOverridesStore,
} from '../../../src/store/index.js';
import { Sweeper } from '../../../src/worker/index.js';
import { tinyCase } from '../../integration/distributed/tiny.js';

/** The embedded store with in-memory leases and overrides (the distributed extras). */
function distributed(store: EmbeddedStore): DistributedStore {
  const leases = new Map<string, { owner: string; until: number }>();
  const extras: LeaseStore & RunOverridesStore = {
    putRunOverrides: async () => undefined,
    getRunOverrides: async () => ({}),
    async acquireLease(ks, name, owner, ttlMs) {
      const cur = leases.get(`${ks}/${name}`);
      if (cur && cur.owner !== owner && cur.until > Date.now()) return false;
      if (!cur || cur.until <= Date.now()) leases.set(`${ks}/${name}`, { owner, until: Date.now() + ttlMs });
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
      if (typeof prop === 'string' && prop in extras) return extras[prop as keyof typeof extras];
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as unknown as DistributedStore;
}

/** The in-process queue with the counts the sweep looks at, and a switch that loses publishes. */
class CountingQueue implements BatchQueue {
  readonly inner = new MemoryQueue();
  lose = false;
  published: BatchMessage[] = [];
  async publish(ks: string, msgs: readonly BatchMessage[]): Promise<void> {
    if (this.lose) return;
    this.published.push(...msgs);
    await this.inner.publish(ks, msgs);
  }
  consume: BatchQueue['consume'] = (ks, h, n) => this.inner.consume(ks, h, n);
  deleteQueues = (ks: string): Promise<void> => this.inner.deleteQueues(ks);
  close = (): Promise<void> => this.inner.close();
  async counts(ks: string): Promise<QueueCounts> {
    return { ready: this.inner.pending(ks), waiting: this.inner.delayed(ks), dead: 0, consumers: 0 };
  }
}

describe('Sweeper', () => {
  const ks = 'sweep_ks';
  let dir: string;
  let embedded: EmbeddedStore;
  let store: DistributedStore;
  let queue: CountingQueue;
  let script: Script;
  let scriptUrl: string;
  let paramsUrl: string;

  beforeEach(async () => {
    const c = tinyCase(10);
    dir = c.dir;
    scriptUrl = c.script;
    paramsUrl = c.params;
    const io = createEngineIo();
    script = await loadScript({ scriptUrl, paramsUrl, readText: (u) => io.readText(u) });
    embedded = new EmbeddedStore({ stateDir: `${dir}/state` });
    store = distributed(embedded);
    queue = new CountingQueue();
  });

  afterEach(async () => {
    await queue.close();
    await embedded.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const sweeper = (owner = 'w1'): Sweeper =>
    new Sweeper({ store, queue, ks, getScript: async () => script, owner, leaseTtlMs: 60_000 });

  async function lostStart(): Promise<number> {
    queue.lose = true;
    const { runId } = await startRun({
      store,
      queue,
      ks,
      script,
      startNodes: ['read_orders'],
      scriptUrl,
      paramsUrl,
    });
    queue.lose = false;
    return runId;
  }

  test('a keyspace that does not exist is skipped', async () => {
    expect(await sweeper().sweep()).toEqual({ swept: false, publishedNodes: [], republishedBatches: 0 });
  });

  test('claimed but unpublished batches are published again after two idle sweeps', async () => {
    await lostStart();
    const s = sweeper();
    expect(await s.sweep()).toEqual({ swept: true, publishedNodes: [], republishedBatches: 0 });
    expect(queue.published).toHaveLength(0);
    expect(await s.sweep()).toEqual({ swept: true, publishedNodes: [], republishedBatches: 1 });
    expect(queue.published.map((m) => [m.node, m.batchIdx])).toEqual([['read_orders', 0]]);
    // now the message waits in the queue: the queue is not idle, nothing more is published
    expect((await s.sweep()).republishedBatches).toBe(0);
    expect((await s.sweep()).republishedBatches).toBe(0);
    expect(queue.published).toHaveLength(1);
  });

  test('nothing is published while the queue is busy or batches have history', async () => {
    const runId = await lostStart();
    await queue.inner.publish(ks, [{ ...queue.published[0]!, ...fakeMsg(runId) }]);
    const s = sweeper();
    await s.sweep();
    await s.sweep();
    expect(queue.published).toHaveLength(0); // the queue held a message both times
    await queue.inner.deleteQueues(ks);
    await store.putBatchStatus(ks, {
      runId,
      node: 'read_orders',
      batchIdx: 0,
      batchesTotal: 1,
      status: NodeStatus.Start,
      firstToken: 0n,
      lastToken: 0n,
      instance: 'other',
      thread: 0,
      comment: '',
    });
    await s.sweep();
    await s.sweep();
    expect(queue.published).toHaveLength(0); // the batch was started: its message exists
  });

  test('a ready node that was never claimed is published at once', async () => {
    const runId = await lostStart();
    // the parent completed, but the process died before claiming the child
    await store.putBatchStatus(ks, {
      runId,
      node: 'read_orders',
      batchIdx: 0,
      batchesTotal: 1,
      status: NodeStatus.Success,
      firstToken: 0n,
      lastToken: 0n,
      instance: 'other',
      thread: 0,
      comment: '',
    });
    await store.putNodeStatus(ks, {
      runId,
      node: 'read_orders',
      writtenByBatchIdx: 0,
      status: NodeStatus.Success,
      comment: '',
    });
    const r = await sweeper().sweep();
    expect(r).toEqual({ swept: true, publishedNodes: ['write_orders'], republishedBatches: 0 });
    expect(queue.published.map((m) => [m.node, m.batchIdx])).toEqual([
      ['write_orders', 0],
      ['write_orders', 1],
    ]);
  });

  test('one worker sweeps at a time (sweep lease)', async () => {
    await lostStart();
    expect((await sweeper('w1').sweep()).swept).toBe(true);
    expect((await sweeper('w2').sweep()).swept).toBe(false);
  });
});

function fakeMsg(runId: number): Partial<BatchMessage> {
  return { runId, node: 'write_orders', id: 'busy', batchIdx: 0, batchesTotal: 2 };
}
