import { Registry } from 'prom-client';
import { EVENTS, EventRecorder, OperatorMetrics, type KubeEvent } from '../../../src/operator/index.js';
import { TransientError } from '../../../src/errors/index.js';
import { FakeKube } from './fake-kube.js';
import { ManualClock } from './fake-clock.js';

const run = {
  apiVersion: 'plexus.dev/v1alpha1',
  kind: 'DataRun',
  metadata: { name: 'lookup', namespace: 'data', uid: 'uid-1', resourceVersion: '5' },
};

function setup(opts: { burst?: number } = {}) {
  const kube = new FakeKube();
  const clock = new ManualClock();
  const registry = new Registry();
  const recorder = new EventRecorder({
    client: kube,
    reportingController: 'plexus.dev/operator',
    reportingInstance: 'operator-0',
    clock,
    burst: opts.burst ?? 5,
    refillMs: 10_000,
    metrics: new OperatorMetrics(registry),
  });
  const events = () => [...(kube.store.get('events')?.values() ?? [])] as KubeEvent[];
  return { kube, clock, recorder, events };
}

describe('EventRecorder', () => {
  it('creates an events.k8s.io/v1 Event about the object', async () => {
    const { recorder, events } = setup();
    const name = await recorder.normal(
      run,
      'RunStarted',
      'StartRun',
      'run 1 started in keyspace plx_data_lookup',
    );
    expect(name).toMatch(/^lookup\./);
    expect(events()).toEqual([
      expect.objectContaining({
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: expect.objectContaining({ name, namespace: 'data' }),
        reportingController: 'plexus.dev/operator',
        reportingInstance: 'operator-0',
        action: 'StartRun',
        reason: 'RunStarted',
        type: 'Normal',
        note: 'run 1 started in keyspace plx_data_lookup',
        regarding: {
          apiVersion: 'plexus.dev/v1alpha1',
          kind: 'DataRun',
          name: 'lookup',
          namespace: 'data',
          uid: 'uid-1',
          resourceVersion: '5',
        },
        eventTime: expect.stringMatching(/\.\d{6}Z$/),
      }),
    ]);
  });

  it('aggregates identical events into a series', async () => {
    const { recorder, events, clock } = setup();
    await recorder.warning(run, 'NodeFailed', 'Reconcile', 'node x failed');
    await clock.advance(1000);
    await recorder.warning(run, 'NodeFailed', 'Reconcile', 'node x failed');
    await recorder.warning(run, 'NodeFailed', 'Reconcile', 'node x failed');
    expect(events()).toHaveLength(1);
    expect(events()[0]?.series).toEqual({ count: 3, lastObservedTime: expect.stringMatching(/\.\d{6}Z$/) });
  });

  it('rate-limits per object', async () => {
    const { recorder, events, clock } = setup({ burst: 3 });
    const names = [];
    for (let i = 0; i < 5; i++) names.push(await recorder.normal(run, 'Progress', 'Reconcile', `step ${i}`));
    expect(names.filter(Boolean)).toHaveLength(3);
    expect(
      await recorder.normal(
        { ...run, metadata: { ...run.metadata, uid: 'other', name: 'other' } },
        'Progress',
        'Reconcile',
        'x',
      ),
    ).toBeDefined();
    await clock.advance(10_000);
    expect(await recorder.normal(run, 'Progress', 'Reconcile', 'step 9')).toBeDefined();
    expect(events()).toHaveLength(5);
  });

  it('never throws when the API is down', async () => {
    const { recorder, kube } = setup();
    kube.failNext.set('create', [new TransientError('KUBE_UNREACHABLE', 'down')]);
    await expect(recorder.normal(run, 'RunStarted', 'StartRun', 'x')).resolves.toBeUndefined();
    expect(kube.store.get(EVENTS.plural)?.size ?? 0).toBe(0);
  });
});
