import {
  BucketRateLimiter,
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  WorkQueue,
} from '../../../src/operator/index.js';
import { ManualClock, flush } from './fake-clock.js';

function queue(clock = new ManualClock()) {
  return {
    clock,
    q: new WorkQueue<string>({ name: 'test', clock, rateLimiter: new ItemExponentialRateLimiter(10, 1000) }),
  };
}

describe('WorkQueue', () => {
  it('de-duplicates keys that are waiting', async () => {
    const { q } = queue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
  });

  it('never hands one key to two workers; a key added during processing comes back after done', async () => {
    const { q } = queue();
    q.add('a');
    const first = await q.get();
    expect(first).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await flush();
    expect(second).toBeUndefined();
    q.done('a');
    await flush();
    expect(second).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const { q } = queue();
    const pending = q.get();
    q.add('x');
    expect(await pending).toBe('x');
  });

  it('addAfter delivers after the delay, keeping the earliest deadline', async () => {
    const { q, clock } = queue();
    q.addAfter('a', 1000);
    q.addAfter('a', 300);
    q.addAfter('a', 5000);
    await clock.advance(299);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
    expect(clock.pending()).toBe(0);
  });

  it('addRateLimited backs off exponentially per key and forget resets it', async () => {
    const { q, clock } = queue();
    const arrivals: number[] = [];
    for (let i = 0; i < 4; i++) {
      q.addRateLimited('k');
      const start = clock.now();
      while (q.len() === 0) await clock.advance(1);
      arrivals.push(clock.now() - start);
      expect(await q.get()).toBe('k');
      q.done('k');
    }
    expect(arrivals).toEqual([10, 20, 40, 80]);
    expect(q.numRequeues('k')).toBe(4);
    q.forget('k');
    expect(q.numRequeues('k')).toBe(0);
  });

  it('shutDown releases waiting workers and waits for in-flight keys', async () => {
    const { q } = queue();
    q.add('busy');
    const key = await q.get();
    const waiting = q.get();
    let drained = false;
    const done = q.shutDown().then(() => (drained = true));
    expect(await waiting).toBeUndefined();
    q.add('ignored');
    expect(q.len()).toBe(0);
    await flush();
    expect(drained).toBe(false);
    q.done(key!);
    await done;
    expect(drained).toBe(true);
    expect(await q.get()).toBeUndefined();
  });

  it('reports depth, adds, retries and wait time to its observer', async () => {
    const clock = new ManualClock();
    const seen = { depth: [] as number[], added: 0, retried: 0, waited: [] as number[] };
    const q = new WorkQueue<string>({
      name: 'obs',
      clock,
      rateLimiter: new ItemExponentialRateLimiter(10, 1000),
      observer: {
        depth: (n) => seen.depth.push(n),
        added: () => seen.added++,
        retried: () => seen.retried++,
        waited: (s) => seen.waited.push(s),
      },
    });
    q.add('a');
    q.add('a');
    await clock.advance(2000);
    await q.get();
    q.done('a');
    q.addRateLimited('a');
    expect(seen.added).toBe(2);
    expect(seen.retried).toBe(1);
    expect(seen.depth).toEqual([1, 0]);
    expect(seen.waited).toEqual([2]);
  });
});

describe('rate limiters', () => {
  it('item limiter caps its delay', () => {
    const l = new ItemExponentialRateLimiter<string>(5, 100);
    expect([1, 2, 3, 4, 5, 6].map(() => l.when('x'))).toEqual([5, 10, 20, 40, 80, 100]);
    expect(l.when('y')).toBe(5);
  });

  it('bucket limiter allows a burst then spaces requests at its rate', async () => {
    const clock = new ManualClock();
    const l = new BucketRateLimiter<string>(10, 3, clock);
    expect([l.when('a'), l.when('b'), l.when('c')]).toEqual([0, 0, 0]);
    expect(l.when('d')).toBeCloseTo(100);
    expect(l.when('e')).toBeCloseTo(200);
    await clock.advance(1000);
    expect(l.when('f')).toBe(0);
  });

  it('max-of takes the larger delay', () => {
    const clock = new ManualClock();
    const l = new MaxOfRateLimiter<string>(
      new ItemExponentialRateLimiter(5, 1000),
      new BucketRateLimiter(1, 1, clock),
    );
    expect(l.when('a')).toBe(5);
    expect(l.when('a')).toBeCloseTo(1000);
    expect(l.retries('a')).toBe(2);
  });
});
