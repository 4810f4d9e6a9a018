import { BridgeState, bridgeMetrics } from '../../../src/bridge/index.js';
import { InstantClock, registry } from './helpers.js';

function state(clock = new InstantClock()): BridgeState {
  return new BridgeState('orders', 'rabbitmq', 's3', bridgeMetrics(registry()), clock);
}

describe('BridgeState snapshot', () => {
  it('names its instance and start time, unchanged while the counters grow', async () => {
    const clock = new InstantClock();
    const started = clock.now();
    const s = state(clock);
    const first = s.snapshot();
    expect(first.instance).toMatch(/^[0-9a-f]{12}$/);
    expect(first.startedAt).toBe(new Date(started).toISOString());

    await clock.sleep(5000);
    s.received(3, 30, 0);
    s.delivered(3, 30);
    const later = s.snapshot();
    expect(later).toMatchObject({ instance: first.instance, startedAt: first.startedAt });
    expect(later.counters).toMatchObject({ received: 3, delivered: 3 });
    expect(later.lastDeliveryTime).toBe(new Date(started + 5000).toISOString());
  });

  it('gives every new life (a restarted process) a new instance, counting from zero', () => {
    const before = state();
    before.received(7, 70, 0);
    before.delivered(7, 70);
    const after = state();
    const snap = after.snapshot();
    expect(snap.instance).not.toBe(before.instance);
    expect(snap.counters).toMatchObject({ received: 0, delivered: 0, retries: 0, reconnects: 0 });
  });

  it('keeps the existing snapshot fields', () => {
    const s = state();
    const reporter = s.reporter('sink');
    reporter.connected('connected to S3');
    reporter.retry('upload', new Error('503 SlowDown'));
    reporter.reconnected();
    const snap = s.snapshot();
    expect(Object.keys(snap).sort()).toEqual(
      [
        'bridge',
        'conditions',
        'counters',
        'inFlight',
        'instance',
        'lastError',
        'phase',
        'sink',
        'source',
        'startedAt',
      ].sort(),
    );
    expect(snap).toMatchObject({
      bridge: 'orders',
      phase: 'Starting',
      sink: { type: 's3', connected: true },
      source: { type: 'rabbitmq', connected: false },
      counters: { retries: 1, reconnects: 1, errors: { 'sink/upload': 1 } },
      lastError: { side: 'sink', kind: 'upload', message: '503 SlowDown' },
    });
  });
});
