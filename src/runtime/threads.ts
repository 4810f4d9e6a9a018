import { Worker } from 'node:worker_threads';
import type { PythonSettings } from '../engine/index.js';
import type { BatchHandler, BatchMessage, BatchQueue, Disposition } from '../queue/index.js';
import type { Store } from '../store/index.js';
import type { RunEvent } from './handler.js';

/** What a batch worker thread needs to build its own handler (all plain data). */
export interface ThreadInit {
  readonly stateDir: string;
  /** One Int32 shared by all threads: the write lock of the embedded store (see lockedStore). */
  readonly writeLock: SharedArrayBuffer;
  readonly scriptUrl: string;
  readonly paramsUrl?: string;
  readonly overrides?: Readonly<Record<string, string>>;
  readonly python?: PythonSettings;
}

export type ToThread =
  | { readonly type: 'handle'; readonly id: number; readonly msg: BatchMessage }
  | { readonly type: 'published'; readonly id: number; readonly error?: string };

export type FromThread =
  | { readonly type: 'ready' }
  | { readonly type: 'init-failed'; readonly error: string }
  | { readonly type: 'result'; readonly id: number; readonly disposition: Disposition }
  | { readonly type: 'publish'; readonly id: number; readonly ks: string; readonly msgs: BatchMessage[] }
  | { readonly type: 'event'; readonly event: RunEvent };

/** Store methods that only read: they run without the write lock (SQLite WAL readers do not block). */
const READS: ReadonlySet<string> = new Set([
  'keyspaceExists',
  'getRunProperties',
  'getRunHistory',
  'getNodeHistory',
  'getBatchHistory',
  'scanRange',
  'getRows',
  'lookupIndex',
  'countRows',
  'close',
]);

/**
 * The embedded store as seen by one of several threads: every writing call holds a lock shared by the
 * threads. SQLite lets one writer in at a time and makes the others sleep and retry; taking turns through
 * a shared lock instead keeps the writers busy. Each embedded-store call runs to completion without
 * yielding, so the lock is held exactly for the duration of the SQLite work.
 */
export function lockedStore(store: Store, writeLock: SharedArrayBuffer): Store {
  const cell = new Int32Array(writeLock);
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || READS.has(prop)) {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      const fn = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        while (Atomics.compareExchange(cell, 0, 0, 1) !== 0) Atomics.wait(cell, 0, 1, 50);
        try {
          return fn.apply(target, args);
        } finally {
          Atomics.store(cell, 0, 0);
          Atomics.notify(cell, 0, 1);
        }
      };
    },
  });
}

/**
 * The worker's entry. In the build it is the compiled worker-thread.js; when this module runs from
 * TypeScript sources (through tsx, in development and tests) the worker first registers tsx itself, because
 * loader hooks given with --import do not reach worker threads on every Node.js version.
 */
function workerEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./worker-thread.js', import.meta.url);
  const target = new URL('./worker-thread.ts', import.meta.url).href;
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import { register } from ${JSON.stringify(api)};\nregister();\nawait import(${JSON.stringify(target)});\n`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

interface Slot {
  /** Absent for the main thread's own slot. */
  readonly worker?: Worker;
  busy: boolean;
  dead: boolean;
  ready: boolean;
}

/** Threads that died are replaced, up to this many times per pool. */
const MAX_RESPAWNS = 3;

/**
 * A pool of worker threads, each with its own store connection and handler, so that batches of a local
 * run use several CPU cores. Batch results, publishes of ready children and progress events come back to
 * the main thread over messages. A thread that dies hands its batch back for redelivery and is replaced.
 *
 * With a `local` handler the pool does not wait for its threads to start: batches run in the main thread
 * until a worker thread is ready (starting a thread costs about a second), so small runs stay fast.
 */
export class ThreadPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: ((slot: Slot | undefined) => void)[] = [];
  private readonly pending = new Map<number, { slot: Slot; done: (d: Disposition) => void }>();
  private nextId = 1;
  private respawns = 0;
  private closing = false;
  private readonly localSlot: Slot | undefined;

  private constructor(
    private readonly init: ThreadInit,
    private readonly queue: BatchQueue,
    private readonly onEvent: (e: RunEvent) => void,
    private readonly local: BatchHandler | undefined,
  ) {
    if (local) {
      this.localSlot = { busy: false, dead: false, ready: true };
      this.slots.push(this.localSlot);
    }
  }

  static async start(
    size: number,
    init: ThreadInit,
    queue: BatchQueue,
    onEvent: (e: RunEvent) => void,
    local?: BatchHandler,
  ): Promise<ThreadPool> {
    const pool = new ThreadPool(init, queue, onEvent, local);
    const spawns = Array.from({ length: size }, () => pool.spawn());
    if (local) {
      // threads that cannot start leave the work to the main thread
      for (const p of spawns) p.catch(() => undefined);
      return pool;
    }
    try {
      await Promise.all(spawns);
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  private threadReady(): boolean {
    return this.slots.some((s) => s.worker && s.ready && !s.dead);
  }

  /** The main thread's slot is used only while no worker thread is ready. */
  private usable(s: Slot): boolean {
    return !s.busy && !s.dead && s.ready && (s.worker !== undefined || !this.threadReady());
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(workerEntry(), { workerData: this.init });
      const slot: Slot = { worker, busy: true, dead: false, ready: false };
      this.slots.push(slot);
      worker.on('message', (m: FromThread) => {
        switch (m.type) {
          case 'ready':
            slot.ready = true;
            this.release(slot);
            resolve();
            break;
          case 'init-failed':
            reject(new Error(m.error));
            break;
          case 'result': {
            const p = this.pending.get(m.id);
            this.pending.delete(m.id);
            this.release(slot);
            p?.done(m.disposition);
            break;
          }
          case 'publish':
            this.queue.publish(m.ks, m.msgs).then(
              () => worker.postMessage({ type: 'published', id: m.id } satisfies ToThread),
              (err: unknown) =>
                worker.postMessage({ type: 'published', id: m.id, error: String(err) } satisfies ToThread),
            );
            break;
          case 'event':
            this.onEvent(m.event);
            break;
        }
      });
      const died = (reason: string): void => {
        if (slot.dead) return;
        slot.dead = true;
        this.slots.splice(this.slots.indexOf(slot), 1);
        if (!slot.ready) reject(new Error(`a worker thread failed to start: ${reason}`));
        for (const [id, p] of this.pending) {
          if (p.slot !== slot) continue;
          this.pending.delete(id);
          p.done({ kind: 'retry', reason: `worker thread died: ${reason}` });
        }
        if (this.closing) return;
        if (slot.ready && this.respawns < MAX_RESPAWNS) {
          this.respawns++;
          this.spawn().catch(() => this.failWaiting());
        } else {
          this.failWaiting();
        }
      };
      worker.on('error', (err) => died(err.message));
      worker.on('exit', (code) => died(`exited with code ${code}`));
    });
  }

  /** No thread is left (and no main-thread slot): whoever waits for one gets nothing. */
  private failWaiting(): void {
    if (this.slots.length > 0) {
      // the main thread's slot may take over waiting work now that no thread is ready
      if (this.localSlot && !this.localSlot.busy && !this.threadReady()) this.release(this.localSlot);
      return;
    }
    for (const w of this.waiting.splice(0)) w(undefined);
  }

  private release(slot: Slot): void {
    if (slot.dead) return;
    slot.busy = false;
    if (this.waiting.length > 0 && this.usable(slot)) {
      slot.busy = true;
      this.waiting.shift()?.(slot);
    }
  }

  private acquire(): Promise<Slot | undefined> {
    const free = this.slots.find((s) => s.worker && this.usable(s)) ?? this.slots.find((s) => this.usable(s));
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    if (this.slots.length === 0) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Hands a batch to the next free thread. */
  async handle(msg: BatchMessage): Promise<Disposition> {
    const slot = await this.acquire();
    if (!slot) return { kind: 'dead', reason: 'every worker thread died' };
    if (!slot.worker) {
      try {
        return await this.local!(msg);
      } finally {
        this.release(slot);
      }
    }
    const worker = slot.worker;
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { slot, done: resolve });
      worker.postMessage({ type: 'handle', id, msg } satisfies ToThread);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker?.terminate()));
  }
}
