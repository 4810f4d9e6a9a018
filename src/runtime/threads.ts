import { Worker } from 'node:worker_threads';
import type { PythonSettings } from '../engine/index.js';
import type { BatchMessage, BatchQueue, Disposition } from '../queue/index.js';
import type { RunEvent } from './handler.js';

/** What a batch worker thread needs to build its own handler (all plain data). */
export interface ThreadInit {
  readonly stateDir: string;
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

interface Slot {
  readonly worker: Worker;
  busy: boolean;
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

/**
 * A pool of worker threads, each with its own store connection and handler, so that batches of a local
 * run use several CPU cores. Batch results, publishes of ready children and progress events come back to
 * the main thread over messages.
 */
export class ThreadPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: ((slot: Slot) => void)[] = [];
  private readonly pending = new Map<number, (d: Disposition) => void>();
  private nextId = 1;

  private constructor(
    private readonly queue: BatchQueue,
    private readonly onEvent: (e: RunEvent) => void,
  ) {}

  static async start(
    size: number,
    init: ThreadInit,
    queue: BatchQueue,
    onEvent: (e: RunEvent) => void,
  ): Promise<ThreadPool> {
    const pool = new ThreadPool(queue, onEvent);
    try {
      await Promise.all(Array.from({ length: size }, () => pool.spawn(init)));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  private spawn(init: ThreadInit): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(workerEntry(), { workerData: init });
      const slot: Slot = { worker, busy: false };
      this.slots.push(slot);
      let ready = false;
      worker.on('message', (m: FromThread) => {
        switch (m.type) {
          case 'ready':
            ready = true;
            resolve();
            break;
          case 'init-failed':
            reject(new Error(m.error));
            break;
          case 'result': {
            const done = this.pending.get(m.id);
            this.pending.delete(m.id);
            this.release(slot);
            done?.(m.disposition);
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
      worker.on('error', (err) => {
        if (!ready) reject(err);
        // a crashed thread fails the batches it held: they are delivered again
        for (const [id, done] of this.pending) {
          this.pending.delete(id);
          done({ kind: 'retry', reason: `worker thread crashed: ${err.message}` });
        }
      });
    });
  }

  private release(slot: Slot): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else slot.busy = false;
  }

  private acquire(): Promise<Slot> {
    const free = this.slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Hands a batch to the next free thread. */
  async handle(msg: BatchMessage): Promise<Disposition> {
    const slot = await this.acquire();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      slot.worker.postMessage({ type: 'handle', id, msg } satisfies ToThread);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
