import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { BatchMessage, BatchQueue } from '../../../src/queue/index.js';
import {
  batchStatusOf,
  createEngineIo,
  runLocal,
  startRun,
  tableSpecsOf,
} from '../../../src/runtime/index.js';
import { loadScript } from '../../../src/script/index.js';
import { EmbeddedStore, NodeStatus, type TableRef } from '../../../src/store/index.js';
import { diffFiles, prepareSuite, suitesDir } from '../capillaries/harness.js';
import {
  expectOk,
  openQueue,
  openStore,
  serviceEnv,
  startRunCli,
  startWorkers,
  tableCounts,
  WorkerProcess,
  waitRunCli,
} from './cluster.js';
import { PrivateBroker } from './private-broker.js';
import { tinyCase } from './tiny.js';

// Fault injection in distributed mode. Workers are killed (SIGKILL) while they hold a batch and replaced;
// the broker is restarted in the middle of a run; a crash between "claim" and "publish" is simulated.
// Each time the run must complete with Capillaries' expected outputs, and every data and index table must
// hold exactly as many rows as the same run on the embedded store: nothing lost, nothing duplicated.
jest.setTimeout(600_000);

const LOOKUP_OUTPUTS = [
  'order_item_date_inner.csv',
  'order_item_date_left_outer.csv',
  'order_date_value_grouped_inner.csv',
  'order_date_value_grouped_left_outer.csv',
];
const START = 'read_orders,read_order_items';
const tag = randomBytes(3).toString('hex');

interface Lookup {
  readonly s: ReturnType<typeof prepareSuite>;
  readonly script: string;
  readonly params: string;
  readonly tables: TableRef[];
  readonly reference: Record<string, number>;
}

/** The lookup suite (one run), with the row counts of every table from a run on the embedded store. */
async function lookupWithReference(): Promise<Lookup> {
  const s = prepareSuite('lookup');
  const script = path.join(s.cfg, 'script_quick.yaml');
  const params = path.join(s.cfg, 'script_params_quick_fs_one.yaml');
  const io = createEngineIo();
  const refOut = path.join(s.dir, 'out_reference');
  fs.mkdirSync(refOut);
  const overrides = { dir_in: s.in, dir_out: refOut };
  const local = await runLocal({
    stateDir: path.join(s.dir, 'reference'),
    ks: 'reference',
    scriptUrl: script,
    paramsUrl: params,
    overrides,
    startNodes: START.split(','),
    workers: 1,
    threads: false,
    io,
  });
  expect(local.ok).toBe(true);
  const loaded = await loadScript({
    scriptUrl: script,
    paramsUrl: params,
    overrides,
    readText: (u) => io.readText(u),
  });
  const tables: TableRef[] = [];
  for (const n of local.nodes) {
    for (const spec of tableSpecsOf(loaded, loaded.nodes.get(n.node)!))
      tables.push({ name: spec.name, runId: 1 });
  }
  const embedded = new EmbeddedStore({ stateDir: path.join(s.dir, 'reference') });
  const reference: Record<string, number> = {};
  try {
    for (const t of tables) reference[`${t.name}_1`] = await embedded.countRows('reference', t);
  } finally {
    await embedded.close();
  }
  expect(Object.keys(reference).length).toBeGreaterThanOrEqual(8);
  return { s, script, params, tables, reference };
}

function expectOutputs(out: string): void {
  const expected = path.join(suitesDir(), 'lookup', 'expected');
  for (const f of LOOKUP_OUTPUTS)
    expect(diffFiles(path.join(expected, f), path.join(out, f), false)).toBeUndefined();
}

async function cleanup(ks: string, url?: string): Promise<void> {
  const store = openStore();
  await store.dropKeyspace(ks).catch(() => undefined);
  await store.close();
  if (url === undefined) {
    const queue = openQueue();
    await queue.deleteQueues(ks).catch(() => undefined);
    await queue.close();
  }
}

function dumpLogs(workers: readonly WorkerProcess[]): void {
  for (const w of workers) process.stderr.write(`--- ${w.logFile}\n${w.log().slice(-3000)}\n`);
}

describe('distributed mode under faults', () => {
  test('workers killed in the middle of batches (and replaced): same outputs, no row lost or duplicated', async () => {
    const lk = await lookupWithReference();
    const ks = `dist_kill_${tag}`;
    const logDir = path.join(lk.s.dir, 'logs');
    const workers = await startWorkers(3, ks, logDir);
    const store = openStore();
    const kills: { pid: number; node: string; batchIdx: number; signal: NodeJS.Signals; at: number }[] = [];
    try {
      const runId = await startRunCli([
        lk.script,
        '--params',
        lk.params,
        '--keyspace',
        ks,
        '--start-nodes',
        START,
        '--param',
        `dir_in=${lk.s.in}`,
        `dir_out=${lk.s.out}`,
      ]);
      const waiting = waitRunCli(ks, runId);
      let finished = false;
      void waiting.then(() => (finished = true));
      // Four disruptions, each on a worker that holds a batch: SIGKILL, SIGKILL, a graceful SIGTERM, SIGKILL.
      // The three original workers are hit first and replaced only after the third disruption, so each of
      // the three has a worker to hit whatever the speed of the run: until then only the originals make
      // progress, and the run cannot finish before one of them redoes the batch of each worker killed (its
      // lease expires, then a live worker holds the batch). The replacements finish the run; the fourth
      // disruption hits one of them if it comes before the end.
      const signals: NodeJS.Signals[] = ['SIGKILL', 'SIGKILL', 'SIGTERM', 'SIGKILL'];
      const originals = workers.length;
      let replaced = false;
      let lastKill = 0;
      while (!finished && kills.length < signals.length) {
        await new Promise((r) => setTimeout(r, 100));
        const gone = (w: WorkerProcess) => w.child.exitCode !== null || w.child.signalCode !== null;
        // (also when the originals are all gone otherwise: the run must not stall without workers)
        if (!replaced && (kills.length >= originals || workers.every(gone))) {
          for (let i = 0; i < originals; i++) workers.push(new WorkerProcess(ks, logDir));
          replaced = true;
        }
        if (replaced && Date.now() - lastKill < 2500) continue;
        const history = await store.getBatchHistory(ks, runId);
        const byBatch = new Map<string, typeof history>();
        for (const h of history) {
          const k = `${h.node}/${h.batchIdx}`;
          byBatch.set(k, [...(byBatch.get(k) ?? []), h]);
        }
        const running = [...byBatch.values()]
          .map((l) => batchStatusOf(l)!)
          .filter((b) => b.status === NodeStatus.Start);
        const signalled = new Set(kills.map((k) => k.pid));
        const live = workers.filter(
          (w) => w.child.exitCode === null && w.child.signalCode === null && !signalled.has(w.pid),
        );
        const victim = running
          .map((b) => ({ b, w: live.find((w) => b.instance.endsWith(`/plexus/${w.pid}`)) }))
          .find((x) => x.w !== undefined);
        if (!victim?.w) continue;
        const signal = signals[kills.length]!;
        const at = Date.now();
        victim.w.child.kill(signal);
        kills.push({ pid: victim.w.pid, node: victim.b.node, batchIdx: victim.b.batchIdx, signal, at });
        lastKill = Date.now();
      }
      const res = await waiting;
      if (res.code !== 0) dumpLogs(workers);
      expectOk(res, 'plexus status --wait');
      expect(res.stdout).toMatch(/: succeeded/);
      expect(kills.length).toBeGreaterThanOrEqual(originals);
      // every batch a killed worker held was finished by another worker (or by the victim itself in the
      // moment between the history read and the signal: then its success is recorded before the kill)
      const history = await store.getBatchHistory(ks, runId);
      for (const k of kills.filter((x) => x.signal === 'SIGKILL')) {
        const done = history.find(
          (h) => h.node === k.node && h.batchIdx === k.batchIdx && h.status === NodeStatus.Success,
        );
        expect(done).toBeDefined();
        if (done!.instance.endsWith(`/plexus/${k.pid}`))
          expect(done!.ts.getTime()).toBeLessThanOrEqual(k.at + 1000);
      }
      // the gracefully stopped worker finished its batches and exited cleanly
      const termed = workers.find((w) => w.pid === kills.find((k) => k.signal === 'SIGTERM')?.pid);
      if (termed) {
        expect(await termed.exited).toBe(0);
        expect(termed.log()).toContain('worker stopped');
      }
      expect(await tableCounts(store, ks, lk.tables)).toEqual(lk.reference);
      expectOutputs(lk.s.out);
    } catch (err) {
      process.stderr.write(`kills: ${JSON.stringify(kills)}\n`);
      throw err;
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await store.close();
      await cleanup(ks);
    }
    fs.rmSync(lk.s.dir, { recursive: true, force: true });
  });

  test('RabbitMQ restarted during a run: the run completes, same outputs, no row lost or duplicated', async () => {
    const lk = await lookupWithReference();
    const broker = await PrivateBroker.start();
    const ks = `dist_broker_${tag}`;
    const env = serviceEnv({ PLEXUS_RABBITMQ_URL: broker.url });
    const logDir = path.join(lk.s.dir, 'logs');
    const workers = await startWorkers(3, ks, logDir, [], env);
    const store = openStore();
    try {
      const runId = await startRunCli(
        [
          lk.script,
          '--params',
          lk.params,
          '--keyspace',
          ks,
          '--start-nodes',
          START,
          '--param',
          `dir_in=${lk.s.in}`,
          `dir_out=${lk.s.out}`,
        ],
        env,
      );
      // restart the broker once the lookup nodes are under way
      const until = Date.now() + 120_000;
      for (;;) {
        const history = await store.getBatchHistory(ks, runId);
        const lookupsDone = history.filter(
          (h) => h.node.startsWith('order_') && h.status === NodeStatus.Success,
        ).length;
        if (lookupsDone >= 1) break;
        if (Date.now() > until) throw new Error('the lookup nodes did not start within 120 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      await broker.stopApp();
      await new Promise((r) => setTimeout(r, 3000));
      await broker.startApp();
      const res = await waitRunCli(ks, runId, env);
      if (res.code !== 0) dumpLogs(workers);
      expectOk(res, 'plexus status --wait');
      expect(res.stdout).toMatch(/: succeeded/);
      // The run may complete before the workers are back (batches in flight need no broker); every worker
      // must still notice the loss and resume consuming once the broker is up again.
      const resumeBy = Date.now() + 120_000;
      const resumed = (w: WorkerProcess) =>
        w.log().includes('RabbitMQ connection lost; reconnecting') && w.log().includes('consuming again');
      while (!workers.every(resumed) && Date.now() < resumeBy) {
        await new Promise((r) => setTimeout(r, 250));
      }
      for (const w of workers) expect(w.log()).toContain('RabbitMQ connection lost; reconnecting');
      for (const w of workers) expect(w.log()).toContain('consuming again');
      expect(await tableCounts(store, ks, lk.tables)).toEqual(lk.reference);
      expectOutputs(lk.s.out);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await store.close();
      await cleanup(ks, broker.url);
      await broker.stop();
    }
    fs.rmSync(lk.s.dir, { recursive: true, force: true });
  });

  test('a crash between "claim" and "publish" is repaired by the sweep', async () => {
    const c = tinyCase(40);
    const ks = `dist_sweep_${tag}`;
    const store = openStore();
    const queue = openQueue();
    // a queue that loses the first publish, as if the process died right after claiming the node
    let lost = 0;
    const lossy: BatchQueue = {
      publish: async (k: string, msgs: readonly BatchMessage[]) => {
        if (lost === 0) {
          lost = msgs.length;
          return;
        }
        await queue.publish(k, msgs);
      },
      consume: (k, h, n) => queue.consume(k, h, n),
      deleteQueues: (k) => queue.deleteQueues(k),
      close: async () => undefined,
    };
    const io = createEngineIo();
    const script = await loadScript({
      scriptUrl: c.script,
      paramsUrl: c.params,
      readText: (u) => io.readText(u),
    });
    const workers: WorkerProcess[] = [];
    try {
      const started = await startRun({
        store,
        queue: lossy,
        ks,
        script,
        startNodes: ['read_orders'],
        scriptUrl: c.script,
        paramsUrl: c.params,
      });
      expect(lost).toBe(1);
      workers.push(...(await startWorkers(2, ks, path.join(c.dir, 'logs'))));
      const res = await waitRunCli(ks, started.runId);
      if (res.code !== 0) dumpLogs(workers);
      expectOk(res, 'plexus status --wait');
      // the sweep logs once it published the batch again (the batch may be done before the line is written)
      const sweepLine = 'sweep: published again batches that never reached the queue';
      const loggedBy = Date.now() + 60_000;
      while (!workers.some((w) => w.log().includes(sweepLine)) && Date.now() < loggedBy) {
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(workers.map((w) => w.log()).join('\n')).toContain(sweepLine);
      const out =
        fs.readFileSync(path.join(c.out, 'orders_00000.csv'), 'utf8') +
        fs.readFileSync(path.join(c.out, 'orders_00001.csv'), 'utf8');
      expect(out.split('\n').filter((l) => /^o\d{4},/.test(l))).toHaveLength(40);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await queue.close();
      await store.close();
      await cleanup(ks);
      fs.rmSync(c.dir, { recursive: true, force: true });
    }
  });
});
