import { canAcquire, microTime, nextLeaseSpec, TokenBuckets } from '../../../src/operator/index.js';
import { ManualClock } from './fake-clock.js';

const T = Date.parse('2026-11-25T07:00:00.123Z');

describe('canAcquire', () => {
  it('takes an unheld lease or one it holds', () => {
    expect(canAcquire(undefined, T, 'me', T, 15000)).toBe(true);
    expect(canAcquire({ holderIdentity: '' }, T, 'me', T, 15000)).toBe(true);
    expect(canAcquire({ holderIdentity: 'me' }, T, 'me', T, 15000)).toBe(true);
  });

  it("waits a full lease duration after last seeing another holder's renewal", () => {
    const spec = { holderIdentity: 'other' };
    expect(canAcquire(spec, T, 'me', T + 14_999, 15000)).toBe(false);
    expect(canAcquire(spec, T, 'me', T + 15_000, 15000)).toBe(true);
  });
});

describe('nextLeaseSpec', () => {
  it('creates a lease with microsecond times', () => {
    expect(nextLeaseSpec(undefined, 'me', T, 15000)).toEqual({
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: '2026-11-25T07:00:00.123000Z',
      renewTime: '2026-11-25T07:00:00.123000Z',
      leaseTransitions: 0,
    });
  });

  it('renewing keeps acquireTime and transitions', () => {
    const held = nextLeaseSpec(undefined, 'me', T, 15000);
    expect(nextLeaseSpec(held, 'me', T + 2000, 15000)).toMatchObject({
      acquireTime: held.acquireTime,
      renewTime: microTime(T + 2000),
      leaseTransitions: 0,
    });
  });

  it('taking over counts a transition', () => {
    const theirs = {
      holderIdentity: 'other',
      leaseTransitions: 2,
      acquireTime: microTime(0),
      renewTime: microTime(0),
    };
    expect(nextLeaseSpec(theirs, 'me', T, 15000)).toMatchObject({
      holderIdentity: 'me',
      leaseTransitions: 3,
      acquireTime: microTime(T),
    });
  });

  it('taking a released lease (no holder) is not a transition', () => {
    expect(nextLeaseSpec({ leaseTransitions: 3 }, 'me', T, 15000).leaseTransitions).toBe(3);
  });
});

describe('microTime', () => {
  it('has exactly six fraction digits', () => {
    expect(microTime(T)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });
});

describe('TokenBuckets', () => {
  it('allows a burst per key, then one per refill period', async () => {
    const clock = new ManualClock();
    const b = new TokenBuckets(3, 1000, clock);
    expect([b.take('a'), b.take('a'), b.take('a'), b.take('a')]).toEqual([true, true, true, false]);
    expect(b.take('b')).toBe(true);
    await clock.advance(999);
    expect(b.take('a')).toBe(false);
    await clock.advance(1);
    expect(b.take('a')).toBe(true);
    expect(b.take('a')).toBe(false);
  });
});
