import { Registry } from 'prom-client';
import { Manager, OperatorMetrics, type KubeObject } from '../../../src/operator/index.js';
import { TransientError } from '../../../src/errors/index.js';
import { FakeKube } from './fake-kube.js';

const RT = { group: 'plexus.dev', version: 'v1alpha1', plural: 'dataruns', kind: 'DataRun' };

describe('Manager', () => {
  it('stops promptly even while its caches cannot sync', async () => {
    const kube = new FakeKube();
    kube.failNext.set(
      'list',
      Array.from({ length: 100 }, () => new TransientError('KUBE_UNREACHABLE', 'down')),
    );
    const manager = new Manager({ client: kube, metrics: new OperatorMetrics(new Registry()) });
    manager.informer<KubeObject>({ resource: RT, backoff: { initialMs: 60_000, maxMs: 60_000 } });
    const stop = new AbortController();
    const running = manager.run(stop.signal);
    await new Promise((r) => setTimeout(r, 20));
    expect(manager.ready()).toBe(false);
    stop.abort();
    await expect(running).resolves.toBe('stopped');
  });

  it('runs controllers without leader election and reports ready once synced', async () => {
    const kube = new FakeKube();
    kube.put(RT, { metadata: { name: 'a', namespace: 'ns' } });
    const manager = new Manager({ client: kube, metrics: new OperatorMetrics(new Registry()) });
    const informer = manager.informer<KubeObject>({ resource: RT });
    const seen: string[] = [];
    const controller = manager.controller({
      name: 'c',
      reconcile: async (req) => {
        seen.push(req.key);
      },
    });
    controller.watch(informer);
    const stop = new AbortController();
    const running = manager.run(stop.signal);
    for (let i = 0; i < 50 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual(['ns/a']);
    expect(manager.ready()).toBe(true);
    expect(manager.isLeader()).toBe(true);
    stop.abort();
    await expect(running).resolves.toBe('stopped');
  });
});
