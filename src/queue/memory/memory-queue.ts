import { errorMessage } from '../../errors/index.js';
import type { BatchHandler, BatchMessage, BatchQueue, Consumer, Disposition } from '../types.js';
import { validateBatchMessage } from './validate.js';

/**
 * In-process BatchQueue for local runs and tests: a FIFO per keyspace, competing consumers each with a
 * concurrency limit, delayed redelivery for 'retry', a dead-letter list (with reasons) for 'dead',
 * malformed messages and messages that were delivered too often. Nothing survives the process: a local
 * run re-enqueues unfinished batches from the store's history when it starts again.
 */

export interface MemoryQueueOptions {
  /** Delay before a 'retry' without its own delayMs, and after a handler that threw (default 1000 ms). */
  readonly retryDelayMs?: number;
  /** Deliveries of one message before it is dead-lettered as poison (default 10). */
  readonly maxDeliveries?: number;
}

export interface DeadLetter {
  readonly msg: BatchMessage;
  readonly reason: string;
  /** When it was dead-lettered (ms since the epoch). */
  readonly ts: number;
}

interface ConsumerState {
  readonly ks: string;
  readonly handler: BatchHandler;
  readonly concurrency: number;
  inFlight: number;
  stopped: boolean;
  drained: (() => void)[];
}

class KeyspaceQueue {
  ready: BatchMessage[] = [];
  head = 0;
  readonly timers = new Set<NodeJS.Timeout>();
  readonly dead: DeadLetter[] = [];
  readonly consumers: ConsumerState[] = [];
  inFlight = 0;
  rr = 0;
  idleWaiters: (() => void)[] = [];

  get readyCount(): number {
    return this.ready.length - this.head;
  }

  shift(): BatchMessage | undefined {
    if (this.head >= this.ready.length) return undefined;
    const m = this.ready[this.head];
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    }
    return m;
  }

  isIdle(): boolean {
    return this.readyCount === 0 && this.inFlight === 0 && this.timers.size === 0;
  }
}

export class MemoryQueue implements BatchQueue {
  private readonly queues = new Map<string, KeyspaceQueue>();
  private readonly retryDelayMs: number;
  private readonly maxDeliveries: number;
  private closed = false;

  constructor(options: MemoryQueueOptions = {}) {
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.maxDeliveries = options.maxDeliveries ?? 10;
    if (!(this.maxDeliveries >= 1)) throw new RangeError('maxDeliveries must be at least 1');
  }

  private q(ks: string): KeyspaceQueue {
    let q = this.queues.get(ks);
    if (!q) {
      q = new KeyspaceQueue();
      this.queues.set(ks, q);
    }
    return q;
  }

  async publish(ks: string, msgs: readonly BatchMessage[]): Promise<void> {
    if (this.closed) throw new Error('the in-process queue is closed');
    const q = this.q(ks);
    for (const m of msgs) q.ready.push(m);
    this.dispatch(ks, q);
  }

  async consume(ks: string, handler: BatchHandler, concurrency: number): Promise<Consumer> {
    if (this.closed) throw new Error('the in-process queue is closed');
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`consumer concurrency must be a positive integer, got ${concurrency}`);
    }
    const q = this.q(ks);
    const c: ConsumerState = { ks, handler, concurrency, inFlight: 0, stopped: false, drained: [] };
    q.consumers.push(c);
    this.dispatch(ks, q);
    return {
      stop: () => this.stopConsumer(q, c),
    };
  }

  private stopConsumer(q: KeyspaceQueue, c: ConsumerState): Promise<void> {
    c.stopped = true;
    const i = q.consumers.indexOf(c);
    if (i >= 0) q.consumers.splice(i, 1);
    if (c.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => c.drained.push(resolve));
  }

  async deleteQueues(ks: string): Promise<void> {
    const q = this.queues.get(ks);
    if (!q) return;
    this.queues.delete(ks);
    for (const t of q.timers) clearTimeout(t);
    q.timers.clear();
    q.ready = [];
    q.head = 0;
    await Promise.all([...q.consumers].map((c) => this.stopConsumer(q, c)));
    for (const w of q.idleWaiters.splice(0)) w();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.queues.keys()].map((ks) => this.deleteQueues(ks)));
  }

  // ---- inspection (local runs, tests) ----

  /** Messages dead-lettered in the keyspace, oldest first. */
  deadLetters(ks: string): readonly DeadLetter[] {
    return [...(this.queues.get(ks)?.dead ?? [])];
  }

  /** Messages waiting for delivery (not counting those in flight or waiting for their retry delay). */
  pending(ks: string): number {
    return this.queues.get(ks)?.readyCount ?? 0;
  }

  /** Messages currently being handled. */
  inFlight(ks: string): number {
    return this.queues.get(ks)?.inFlight ?? 0;
  }

  /** Messages waiting for their retry delay. */
  delayed(ks: string): number {
    return this.queues.get(ks)?.timers.size ?? 0;
  }

  /** Resolves when the keyspace has nothing ready, in flight or delayed. */
  waitIdle(ks: string): Promise<void> {
    const q = this.queues.get(ks);
    if (!q || q.isIdle()) return Promise.resolve();
    return new Promise((resolve) => q.idleWaiters.push(resolve));
  }

  // ---- delivery ----

  private dispatch(ks: string, q: KeyspaceQueue): void {
    while (q.readyCount > 0) {
      const c = this.pickConsumer(q);
      if (!c) break;
      const msg = q.shift();
      if (!msg) break;
      this.deliver(ks, q, c, msg);
    }
    this.checkIdle(q);
  }

  private pickConsumer(q: KeyspaceQueue): ConsumerState | undefined {
    const n = q.consumers.length;
    for (let i = 0; i < n; i++) {
      const c = q.consumers[(q.rr + i) % n];
      if (c && !c.stopped && c.inFlight < c.concurrency) {
        q.rr = (q.rr + i + 1) % n;
        return c;
      }
    }
    return undefined;
  }

  private deliver(ks: string, q: KeyspaceQueue, c: ConsumerState, msg: BatchMessage): void {
    c.inFlight++;
    q.inFlight++;
    const invalid = validateBatchMessage(msg);
    const handled: Promise<Disposition> = invalid
      ? Promise.resolve({ kind: 'dead', reason: `invalid message: ${invalid}` })
      : Promise.resolve()
          .then(() => c.handler(msg))
          .then(
            (d) => d,
            (err: unknown): Disposition => ({
              kind: 'retry',
              reason: `handler failed: ${errorMessage(err)}`,
            }),
          );
    void handled.then((d) => {
      c.inFlight--;
      q.inFlight--;
      if (this.queues.get(ks) === q) this.settle(ks, q, msg, d);
      if (c.inFlight === 0 && c.stopped) for (const w of c.drained.splice(0)) w();
      if (this.queues.get(ks) === q) this.dispatch(ks, q);
    });
  }

  private settle(ks: string, q: KeyspaceQueue, msg: BatchMessage, d: Disposition): void {
    switch (d.kind) {
      case 'ack':
        return;
      case 'dead':
        q.dead.push({ msg, reason: d.reason, ts: Date.now() });
        return;
      case 'retry': {
        const deliveries = (Number.isInteger(msg.attempt) ? msg.attempt : 0) + 1;
        if (deliveries >= this.maxDeliveries) {
          q.dead.push({
            msg,
            reason: `gave up after ${deliveries} deliveries; last failure: ${d.reason}`,
            ts: Date.now(),
          });
          return;
        }
        const again: BatchMessage = { ...msg, attempt: deliveries };
        const t = setTimeout(
          () => {
            q.timers.delete(t);
            if (this.queues.get(ks) !== q) return;
            q.ready.push(again);
            this.dispatch(ks, q);
          },
          Math.max(0, d.delayMs ?? this.retryDelayMs),
        );
        q.timers.add(t);
        return;
      }
    }
  }

  private checkIdle(q: KeyspaceQueue): void {
    if (q.isIdle()) for (const w of q.idleWaiters.splice(0)) w();
  }
}
