import { Informer, KubeApiError, type KubeObject, type ResourceType } from '../../../src/operator/index.js';
import { TransientError } from '../../../src/errors/index.js';
import { FakeKube } from './fake-kube.js';
import { ManualClock, flush } from './fake-clock.js';

const RT: ResourceType = { group: 'plexus.dev', version: 'v1alpha1', plural: 'dataruns', kind: 'DataRun' };
const obj = (name: string, extra: Record<string, unknown> = {}): KubeObject =>
  ({ metadata: { name, namespace: 'ns' }, ...extra }) as KubeObject;

function setup(opts: Partial<ConstructorParameters<typeof Informer>[0]> = {}) {
  const kube = new FakeKube();
  const clock = new ManualClock();
  const events: string[] = [];
  const informer = new Informer<KubeObject>({
    client: kube,
    resource: RT,
    clock,
    random: () => 1,
    resyncPeriodMs: 0,
    ...opts,
  });
  informer.addHandlers({
    add: (o) => events.push(`add ${o.metadata.name}`),
    update: (_old, o) => events.push(`update ${o.metadata.name}`),
    delete: (o) => events.push(`delete ${o.metadata.name}`),
    resync: (o) => events.push(`resync ${o.metadata.name}`),
  });
  return { kube, clock, events, informer };
}

describe('Informer', () => {
  it('lists, then delivers watch events and keeps its cache current', async () => {
    const { kube, events, informer } = setup();
    kube.put(RT, obj('a'), true);
    informer.start();
    await informer.waitForSync();
    await flush();
    expect(events).toEqual(['add a']);
    kube.put(RT, obj('b'));
    kube.put(RT, obj('a', { spec: { x: 1 } }));
    kube.remove(RT, 'ns/b');
    expect(events).toEqual(['add a', 'add b', 'update a', 'delete b']);
    expect(informer.keys()).toEqual(['ns/a']);
    expect(informer.get('ns/a')).toMatchObject({ spec: { x: 1 } });
    await informer.stop();
    expect(informer.state).toBe('stopped');
  });

  it('re-lists on 410 Gone and synthesises what it missed', async () => {
    const { kube, events, informer, clock } = setup();
    kube.put(RT, obj('a'), true);
    kube.put(RT, obj('b'), true);
    informer.start();
    await informer.waitForSync();
    await flush();
    // While the watch is gone: b deleted, a changed, c created — no events delivered.
    kube.remove(RT, 'ns/b', true);
    kube.put(RT, obj('a', { spec: { v: 2 } }), true);
    kube.put(RT, obj('c'), true);
    kube.closeWatches({ errorEvent: { code: 410, reason: 'Expired', message: 'too old resource version' } });
    await clock.advance(0);
    expect(events.slice(2)).toEqual(['delete b', 'update a', 'add c']);
    expect(informer.lists).toBe(2);
    expect(kube.openWatches()).toBe(1);
    await informer.stop();
  });

  it('retries failed lists and watches with capped exponential backoff, forever', async () => {
    const { kube, informer, clock } = setup({ backoff: { initialMs: 1000, maxMs: 4000 } });
    const down = () => new TransientError('KUBE_UNREACHABLE', 'connection refused');
    kube.failNext.set('list', [down(), down(), down(), down()]);
    informer.start();
    await flush();
    const times: number[] = [];
    let lastCalls = kube.calls.length;
    while (!informer.hasSynced()) {
      await clock.advance(100);
      if (kube.calls.length !== lastCalls) {
        times.push(clock.now());
        lastCalls = kube.calls.length;
      }
    }
    // random() = 1 ⇒ full jitter gives the ceiling: 1 s, 2 s, 4 s, 4 s (capped).
    expect(times).toEqual([1000, 3000, 7000, 11000]);
    await informer.stop();
  });

  it('restarts the watch after a non-410 error (which stops the stock informer for good)', async () => {
    const { kube, informer, clock, events } = setup();
    informer.start();
    await informer.waitForSync();
    await flush();
    expect(informer.connects).toBe(1);
    kube.closeWatches({ err: new KubeApiError(500, 'InternalError', 'etcd leader changed') });
    await flush();
    expect(informer.state).toBe('backoff');
    await clock.advance(1000);
    expect(informer.connects).toBe(2);
    kube.put(RT, obj('late'));
    expect(events).toEqual(['add late']);
    expect(informer.lists).toBe(1);
    await informer.stop();
  });

  it('re-watches from the last resourceVersion after a clean close', async () => {
    const { kube, informer, clock } = setup();
    informer.start();
    await informer.waitForSync();
    await flush();
    kube.put(RT, obj('a'));
    await clock.advance(5000);
    kube.closeWatches();
    await flush();
    expect(informer.connects).toBe(2);
    expect(informer.lists).toBe(1);
    await informer.stop();
  });

  it('reconnects a silent (stale) stream', async () => {
    const { kube, informer, clock } = setup({ staleAfterMs: 30_000 });
    informer.start();
    await informer.waitForSync();
    await flush();
    await clock.advance(29_999);
    expect(informer.connects).toBe(1);
    await clock.advance(1);
    expect(informer.connects).toBe(2);
    expect(kube.openWatches()).toBe(1);
    await informer.stop();
  });

  it('hands every cached object to resync handlers each period', async () => {
    const { kube, informer, clock, events } = setup({ resyncPeriodMs: 60_000, staleAfterMs: 1e9 });
    kube.put(RT, obj('a'), true);
    kube.put(RT, obj('b'), true);
    informer.start();
    await informer.waitForSync();
    await clock.advance(60_000);
    expect(events.filter((e) => e.startsWith('resync')).sort()).toEqual(['resync a', 'resync b']);
    await clock.advance(60_000);
    expect(events.filter((e) => e.startsWith('resync'))).toHaveLength(4);
    await informer.stop();
  });

  it('survives a throwing handler', async () => {
    const { kube, informer, events } = setup();
    informer.addHandlers({
      add: () => {
        throw new Error('boom');
      },
    });
    informer.start();
    await informer.waitForSync();
    await flush();
    kube.put(RT, obj('x'));
    expect(events).toEqual(['add x']);
    expect(kube.openWatches()).toBe(1);
    await informer.stop();
  });
});
