import { LEASES, LeaderElector, type Lease } from '../../../src/operator/index.js';
import { TransientError } from '../../../src/errors/index.js';
import { FakeKube } from './fake-kube.js';
import { ManualClock, flush } from './fake-clock.js';

function candidate(kube: FakeKube, clock: ManualClock, identity: string) {
  const elector = new LeaderElector({
    client: kube,
    namespace: 'plexus',
    name: 'plexus-operator',
    identity,
    clock,
    random: () => 0,
  });
  const stop = new AbortController();
  const log: string[] = [];
  const result = elector.run(stop.signal, {
    onStartedLeading: (signal) => {
      log.push('started');
      signal.addEventListener('abort', () => log.push('leader-signal-aborted'));
    },
    onStoppedLeading: () => log.push('stopped'),
    onNewLeader: (id) => log.push(`leader=${id}`),
  });
  return { elector, stop, log, result };
}

const lease = async (kube: FakeKube) => kube.get<Lease>(LEASES, 'plexus', 'plexus-operator');

describe('LeaderElector', () => {
  it('elects exactly one of two candidates; the other takes over after a release', async () => {
    const kube = new FakeKube();
    const clock = new ManualClock();
    const a = candidate(kube, clock, 'a');
    await flush();
    const b = candidate(kube, clock, 'b');
    await clock.advance(10_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.log).toEqual(['leader=a']);
    expect((await lease(kube))?.spec).toMatchObject({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      leaseTransitions: 0,
    });

    a.stop.abort();
    expect(await a.result).toBe(false);
    expect(a.log).toEqual(['leader=a', 'started', 'leader-signal-aborted', 'stopped']);
    expect((await lease(kube))?.spec?.holderIdentity).toBeUndefined();
    await clock.advance(2_000);
    expect(b.elector.isLeader()).toBe(true);
    expect((await lease(kube))?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 0 });
    b.stop.abort();
    await b.result;
  });

  it('fails over after the lease expires when the leader vanishes without releasing', async () => {
    const kube = new FakeKube();
    const clock = new ManualClock();
    kube.put(LEASES, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'plexus-operator', namespace: 'plexus' },
      spec: {
        holderIdentity: 'crashed',
        leaseDurationSeconds: 15,
        renewTime: '2026-11-25T07:00:00.000000Z',
        leaseTransitions: 4,
      },
    } as Lease);
    const b = candidate(kube, clock, 'b');
    await clock.advance(14_000);
    expect(b.elector.isLeader()).toBe(false);
    await clock.advance(3_000);
    expect(b.elector.isLeader()).toBe(true);
    expect((await lease(kube))?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 5 });
    b.stop.abort();
    await b.result;
  });

  it('stops leading when it cannot renew within renewDeadline', async () => {
    const kube = new FakeKube();
    const clock = new ManualClock();
    const a = candidate(kube, clock, 'a');
    await clock.advance(100);
    expect(a.elector.isLeader()).toBe(true);
    const down = () => new TransientError('KUBE_UNREACHABLE', 'connection refused');
    kube.failNext.set('get', Array.from({ length: 20 }, down));
    await clock.advance(12_000);
    expect(await a.result).toBe(true);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.log).toContain('leader-signal-aborted');
    expect(a.log[a.log.length - 1]).toBe('stopped');
    // A lost leader does not release: the lease simply expires.
    kube.failNext.clear();
    expect((await lease(kube))?.spec?.holderIdentity).toBe('a');
  });

  it('refuses inconsistent timings', () => {
    expect(
      () =>
        new LeaderElector({
          client: new FakeKube(),
          namespace: 'n',
          name: 'l',
          leaseDurationMs: 5000,
          renewDeadlineMs: 10_000,
        }),
    ).toThrow('leaseDuration > renewDeadline > retryPeriod');
  });
});
