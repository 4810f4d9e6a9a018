import { Backoff, retryForever } from '../../../src/bridge/index.js';
import { InstantClock } from './helpers.js';

describe('Backoff', () => {
  it('doubles the ceiling up to the cap without jitter', () => {
    const b = new Backoff({ initialMs: 500, maxMs: 30_000, multiplier: 2, jitter: 'none' });
    const delays = Array.from({ length: 9 }, () => b.next());
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    b.reset();
    expect(b.next()).toBe(500);
  });

  it('full jitter draws uniformly below the ceiling with the injected random', () => {
    const values = [0, 0.5, 1, 0.25];
    let i = 0;
    const b = new Backoff(
      { initialMs: 1000, maxMs: 30_000, multiplier: 2, jitter: 'full' },
      () => values[i++] ?? 0,
    );
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([0, 1000, 4000, 2000]);
  });

  it('equal jitter stays within [ceiling/2, ceiling]', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 8000, multiplier: 2, jitter: 'equal' }, () => 0);
    expect([b.next(), b.next(), b.next()]).toEqual([500, 1000, 2000]);
    const c = new Backoff({ initialMs: 1000, maxMs: 8000, multiplier: 2, jitter: 'equal' }, () => 1);
    expect([c.next(), c.next()]).toEqual([1000, 2000]);
  });

  it('never overflows for large attempt counts', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 30_000, multiplier: 2, jitter: 'none' });
    expect(b.ceiling(5000)).toBe(30_000);
  });
});

describe('retryForever', () => {
  it('retries until success with growing delays and reports each failure', async () => {
    const clock = new InstantClock();
    const failures: Array<[number, number]> = [];
    let calls = 0;
    const value = await retryForever(
      async () => {
        calls++;
        if (calls < 5) throw new Error(`fail ${calls}`);
        return 'ok';
      },
      {
        clock,
        backoff: new Backoff({ initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 'none' }),
        onRetry: (_e, attempt, delay) => failures.push([attempt, delay]),
      },
    );
    expect(value).toBe('ok');
    expect(clock.sleeps).toEqual([100, 200, 400, 800]);
    expect(failures).toEqual([
      [1, 100],
      [2, 200],
      [3, 400],
      [4, 800],
    ]);
  });

  it('rethrows a non-retryable error at once', async () => {
    const clock = new InstantClock();
    await expect(
      retryForever(() => Promise.reject(new Error('fatal')), {
        clock,
        backoff: new Backoff(),
        retryable: () => false,
      }),
    ).rejects.toThrow('fatal');
    expect(clock.sleeps).toEqual([]);
  });

  it('stops when the signal is aborted', async () => {
    const ctl = new AbortController();
    const clock = new InstantClock();
    let calls = 0;
    await expect(
      retryForever(
        () => {
          if (++calls === 3) ctl.abort();
          return Promise.reject(new Error('down'));
        },
        { clock, backoff: new Backoff(), signal: ctl.signal },
      ),
    ).rejects.toThrow();
    expect(calls).toBe(3);
  });
});
