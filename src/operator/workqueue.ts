/**
 * A work queue of object keys with the semantics controllers rely on (as client-go's workqueue):
 * - a key waiting in the queue is stored once, however often it is added (de-duplication);
 * - a key is handed to one worker at a time; added again while being processed, it is queued once more
 *   when the worker calls `done`, so the latest state is always reconciled;
 * - `addRateLimited` requeues with per-key exponential backoff (and an overall token bucket), `forget`
 *   resets it after a success; `addAfter` schedules a key (requeueAfter), keeping the earliest deadline.
 */
import { systemClock, type Clock, type TimerHandle } from './clock.js';

export interface RateLimiter<K> {
  /** Delay before the key may be retried; counts a failure. */
  when(key: K): number;
  forget(key: K): void;
  retries(key: K): number;
}

/** Per-key exponential backoff: base · 2^(failures), capped (client-go default: 5 ms → 1000 s). */
export class ItemExponentialRateLimiter<K> implements RateLimiter<K> {
  private readonly failures = new Map<K, number>();

  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1000_000,
  ) {}

  when(key: K): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return Math.min(this.maxMs, this.baseMs * Math.pow(2, n));
  }

  forget(key: K): void {
    this.failures.delete(key);
  }

  retries(key: K): number {
    return this.failures.get(key) ?? 0;
  }
}

/** Overall token bucket (client-go default: 10 per second, burst 100): spreads retry storms. */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond = 10,
    private readonly burst = 100,
    private readonly clock: Clock = systemClock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  when(_key: K): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.perSecond) * 1000;
  }

  forget(_key: K): void {}

  retries(_key: K): number {
    return 0;
  }
}

/** The largest delay of several limiters (client-go's MaxOfRateLimiter). */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  private readonly limiters: RateLimiter<K>[];

  constructor(...limiters: RateLimiter<K>[]) {
    this.limiters = limiters;
  }

  when(key: K): number {
    return Math.max(0, ...this.limiters.map((l) => l.when(key)));
  }

  forget(key: K): void {
    for (const l of this.limiters) l.forget(key);
  }

  retries(key: K): number {
    return Math.max(0, ...this.limiters.map((l) => l.retries(key)));
  }
}

export function defaultRateLimiter<K>(clock: Clock = systemClock): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(
    new ItemExponentialRateLimiter<K>(5, 1000_000),
    new BucketRateLimiter<K>(10, 100, clock),
  );
}

/** Observes queue activity (metrics). */
export interface QueueObserver {
  depth(n: number): void;
  added(): void;
  retried(): void;
  /** Seconds a key waited in the queue before a worker took it. */
  waited(seconds: number): void;
}

export interface WorkQueueOptions<K> {
  name: string;
  rateLimiter?: RateLimiter<K>;
  clock?: Clock;
  observer?: QueueObserver;
}

export class WorkQueue<K = string> {
  readonly name: string;
  private readonly queue: K[] = [];
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly addedAt = new Map<K, number>();
  private readonly delayed = new Map<K, { at: number; timer: TimerHandle }>();
  private readonly waiters: Array<(key: K | undefined) => void> = [];
  private readonly clock: Clock;
  private readonly limiter: RateLimiter<K>;
  private readonly observer: QueueObserver | undefined;
  private shuttingDown = false;
  private drainedWaiters: Array<() => void> = [];

  constructor(opts: WorkQueueOptions<K>) {
    this.name = opts.name;
    this.clock = opts.clock ?? systemClock;
    this.limiter = opts.rateLimiter ?? defaultRateLimiter<K>(this.clock);
    this.observer = opts.observer;
  }

  /** Queues the key unless it is already waiting. */
  add(key: K): void {
    if (this.shuttingDown) return;
    this.observer?.added();
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    if (!this.addedAt.has(key)) this.addedAt.set(key, this.clock.now());
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Queues the key after `ms` (an earlier pending deadline for the same key wins). */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) this.clock.clearTimeout(pending.timer);
    const timer = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, timer });
  }

  /** Requeues after the rate limiter's delay for this key (counts a retry). */
  addRateLimited(key: K): void {
    this.observer?.retried();
    this.addAfter(key, this.limiter.when(key));
  }

  /** Clears the key's failure history (after a successful reconcile). */
  forget(key: K): void {
    this.limiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.limiter.retries(key);
  }

  /** The next key to process; undefined once the queue is shut down and empty. */
  get(): Promise<K | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) return Promise.resolve(this.take(key));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks the key processed; if it was added meanwhile it is queued again. */
  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) this.push(key);
    else if (this.shuttingDown && this.processing.size === 0) this.notifyDrained();
  }

  /** Keys waiting (not counting those being processed or scheduled for later). */
  len(): number {
    return this.queue.length;
  }

  isProcessing(key: K): boolean {
    return this.processing.has(key);
  }

  /** Stops accepting keys; waiting `get` calls resolve to undefined. Resolves once in-flight keys are done. */
  shutDown(): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) this.clock.clearTimeout(timer);
    this.delayed.clear();
    this.queue.length = 0;
    this.dirty.clear();
    this.observer?.depth(0);
    for (const w of this.waiters.splice(0)) w(undefined);
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainedWaiters.push(resolve));
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  private push(key: K): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(this.take(key));
      return;
    }
    this.queue.push(key);
    this.observer?.depth(this.queue.length);
  }

  private take(key: K): K {
    this.dirty.delete(key);
    this.processing.add(key);
    const since = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (since !== undefined) this.observer?.waited((this.clock.now() - since) / 1000);
    this.observer?.depth(this.queue.length);
    return key;
  }

  private notifyDrained(): void {
    for (const d of this.drainedWaiters.splice(0)) d();
  }
}
