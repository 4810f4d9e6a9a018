import { Backoff, backoffDelay } from '../../../src/operator/index.js';

describe('backoffDelay', () => {
  const base = { initialMs: 1000, maxMs: 30_000 };

  it('grows exponentially and stops at the cap (no jitter)', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffDelay(n, { ...base, jitter: 'none' }));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('full jitter scales the ceiling by the random draw', () => {
    expect(backoffDelay(3, { ...base, jitter: 'full', random: () => 0 })).toBe(0);
    expect(backoffDelay(3, { ...base, jitter: 'full', random: () => 0.5 })).toBe(2000);
    expect(backoffDelay(3, { ...base, jitter: 'full', random: () => 0.999 })).toBeCloseTo(3996);
  });

  it('equal jitter keeps half the ceiling as a floor', () => {
    expect(backoffDelay(2, { ...base, jitter: 'equal', random: () => 0 })).toBe(1000);
    expect(backoffDelay(2, { ...base, jitter: 'equal', random: () => 1 })).toBe(2000);
  });

  it('honours a custom factor', () => {
    expect(backoffDelay(3, { initialMs: 10, maxMs: 1e6, factor: 3, jitter: 'none' })).toBe(90);
  });
});

describe('Backoff', () => {
  it('counts attempts and resets after success', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 'none' });
    expect([b.next(), b.next(), b.next()]).toEqual([100, 200, 400]);
    expect(b.attempts).toBe(3);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('is deterministic with a seeded random source', () => {
    let seed = 42;
    const lcg = () => (seed = (seed * 1664525 + 1013904223) % 2 ** 32) / 2 ** 32;
    const a = new Backoff({ initialMs: 1000, maxMs: 30_000, random: lcg });
    const first = [a.next(), a.next(), a.next()];
    seed = 42;
    const b = new Backoff({ initialMs: 1000, maxMs: 30_000, random: lcg });
    expect([b.next(), b.next(), b.next()]).toEqual(first);
    first.forEach((d, i) => expect(d).toBeLessThanOrEqual(1000 * 2 ** i));
  });
});
