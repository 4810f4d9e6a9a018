import { Wakeup } from '../../../src/bridge/buffer/wakeup.js';

const elapsed = async (p: Promise<void>): Promise<number> => {
  const t0 = performance.now();
  await p;
  return performance.now() - t0;
};

/**
 * Whether `p` is still pending when a timer of `ms`, set at the same moment, fires. Both timers count from
 * the event loop's same clock, so this does not depend on how late the test itself was scheduled.
 */
const pendingAfter = async (p: Promise<void>, ms: number): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setTimeout(r, ms));
  const pending = !done;
  await p;
  return pending;
};

describe('Wakeup', () => {
  it('sleeps the whole interval when nothing happens', async () => {
    const w = new Wakeup(new AbortController().signal);
    expect(await pendingAfter(w.wait(120), 60)).toBe(true);
  });

  it('wakes a waiting loop on a kick', async () => {
    const w = new Wakeup(new AbortController().signal);
    const waiting = w.wait(60_000);
    setTimeout(() => w.kick(), 10);
    expect(await elapsed(waiting)).toBeLessThan(30_000);
  });

  it('remembers a kick made while the loop was busy, once', async () => {
    const w = new Wakeup(new AbortController().signal);
    w.kick();
    w.kick();
    expect(await elapsed(w.wait(60_000))).toBeLessThan(30_000);
    // the kick was consumed: the next wait sleeps
    expect(await pendingAfter(w.wait(120), 60)).toBe(true);
  });

  it('does not wait once stopped', async () => {
    const stop = new AbortController();
    const w = new Wakeup(stop.signal);
    stop.abort();
    expect(await elapsed(w.wait(60_000))).toBeLessThan(30_000);
  });
});
