import { Registry } from 'prom-client';
import {
  Controller,
  ItemExponentialRateLimiter,
  KubeApiError,
  OperatorMetrics,
  type ReconcileRequest,
} from '../../../src/operator/index.js';
import { ManualClock, flush } from './fake-clock.js';

function setup(
  reconcile: (req: ReconcileRequest) => Promise<{ requeueAfterMs?: number; requeue?: boolean } | void>,
  workers = 2,
) {
  const clock = new ManualClock();
  const registry = new Registry();
  const metrics = new OperatorMetrics(registry);
  const controller = new Controller({
    name: 'test',
    reconcile,
    workers,
    clock,
    metrics,
    rateLimiter: new ItemExponentialRateLimiter(100, 10_000),
  });
  const stop = new AbortController();
  const running = controller.run(stop.signal);
  return { clock, registry, controller, stop, running };
}

async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = (m?.values as Array<{ labels: Record<string, string>; value: number }> | undefined)?.find((x) =>
    Object.entries(labels).every(([k, val]) => x.labels[k] === val),
  );
  return v?.value ?? 0;
}

describe('Controller', () => {
  it('passes namespace and name, and counts successes', async () => {
    const seen: string[] = [];
    const { controller, stop, running, registry } = setup(async (req) => {
      seen.push(`${req.namespace}|${req.name}`);
    });
    controller.queue.add('data/run-1');
    await flush();
    expect(seen).toEqual(['data|run-1']);
    stop.abort();
    await running;
    expect(
      await metricValue(registry, 'controller_runtime_reconcile_total', {
        controller: 'test',
        result: 'success',
      }),
    ).toBe(1);
  });

  it('retries a failing key with exponential backoff and resets it after a success', async () => {
    const attempts: number[] = [];
    let failures = 3;
    const { controller, clock, stop, running, registry } = setup(async () => {
      attempts.push(clock.now());
      if (failures-- > 0) throw new Error('cassandra unavailable');
    });
    controller.queue.add('ns/a');
    await clock.advance(5000);
    expect(attempts).toEqual([0, 100, 300, 700]);
    expect(controller.queue.numRequeues('ns/a')).toBe(0);
    stop.abort();
    await running;
    expect(
      await metricValue(registry, 'controller_runtime_reconcile_errors_total', { controller: 'test' }),
    ).toBe(3);
  });

  it('requeueAfter brings the key back after the delay', async () => {
    const attempts: number[] = [];
    const { controller, clock, stop, running } = setup(async () => {
      attempts.push(clock.now());
      return attempts.length < 3 ? { requeueAfterMs: 10_000 } : undefined;
    });
    controller.queue.add('ns/a');
    await clock.advance(60_000);
    expect(attempts).toEqual([0, 10_000, 20_000]);
    stop.abort();
    await running;
  });

  it('treats a Conflict as a requeue, not an error', async () => {
    let calls = 0;
    const { controller, clock, stop, running, registry } = setup(async () => {
      if (calls++ === 0) throw new KubeApiError(409, 'Conflict', 'the object has been modified');
    });
    controller.queue.add('ns/a');
    await clock.advance(1000);
    expect(calls).toBe(2);
    stop.abort();
    await running;
    expect(
      await metricValue(registry, 'controller_runtime_reconcile_errors_total', { controller: 'test' }),
    ).toBe(0);
    expect(
      await metricValue(registry, 'controller_runtime_reconcile_total', {
        controller: 'test',
        result: 'requeue',
      }),
    ).toBe(1);
  });

  it('never reconciles one key twice at once, but runs different keys in parallel', async () => {
    const active = new Set<string>();
    let maxParallel = 0;
    let overlapSameKey = false;
    const releases: Array<() => void> = [];
    const { controller, stop, running } = setup(async (req) => {
      if (active.has(req.key)) overlapSameKey = true;
      active.add(req.key);
      maxParallel = Math.max(maxParallel, active.size);
      await new Promise<void>((r) => releases.push(r));
      active.delete(req.key);
    }, 4);
    controller.queue.add('ns/a');
    controller.queue.add('ns/b');
    await flush();
    controller.queue.add('ns/a');
    await flush();
    expect(maxParallel).toBe(2);
    while (releases.length) {
      releases.shift()!();
      await flush();
    }
    expect(overlapSameKey).toBe(false);
    stop.abort();
    await running;
  });

  it('stops taking keys on abort and waits for the reconcile in flight', async () => {
    let finished = false;
    let release!: () => void;
    const { controller, stop, running } = setup(async (req) => {
      await new Promise<void>((r) => (release = r));
      finished = req.key === 'ns/a';
    });
    controller.queue.add('ns/a');
    await flush();
    stop.abort();
    let done = false;
    void running.then(() => (done = true));
    await flush();
    expect(done).toBe(false);
    release();
    await running;
    expect(finished).toBe(true);
  });
});
