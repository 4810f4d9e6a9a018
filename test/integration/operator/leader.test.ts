import { jest } from '@jest/globals';
import { LEASES, LeaderElector, type Lease } from '../../../src/operator/index.js';
import { eventually, setUpKube, type KubeEnv } from './kube-env.js';

jest.setTimeout(120_000);

let env: KubeEnv;
beforeAll(async () => {
  env = await setUpKube('it-leader');
});

interface Timings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}
// A long lease where the test must not see it expire (a renewal slowed down by a loaded machine must not cost
// the leader its lease, and a failover "at once" is well before expiry), a short one where it waits for it.
const longLease: Timings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 300 };
const shortLease: Timings = { leaseDurationMs: 5000, renewDeadlineMs: 4000, retryPeriodMs: 300 };

function candidate(identity: string, lease: string, timings: Timings, releaseOnStop = true) {
  const elector = new LeaderElector({
    client: env.client,
    namespace: env.namespace,
    name: lease,
    identity,
    releaseOnStop,
    ...timings,
  });
  const stop = new AbortController();
  let leading = false;
  const result = elector.run(stop.signal, {
    onStartedLeading: (signal) => {
      leading = true;
      signal.addEventListener('abort', () => (leading = false));
    },
  });
  return { elector, stop, result, isLeading: () => leading };
}

const holder = async (lease: string) =>
  (await env.client.get<Lease>(LEASES, env.namespace, lease))?.spec?.holderIdentity;

describe('leader election on a real Lease', () => {
  it('elects exactly one of two candidates and fails over at once when the leader releases', async () => {
    const a = candidate('candidate-a', 'release', longLease);
    const b = candidate('candidate-b', 'release', longLease);
    const leader = await eventually('a leader', () =>
      a.elector.isLeader() ? a : b.elector.isLeader() ? b : undefined,
    );
    const standby = leader === a ? b : a;
    // Over several renew periods, never two leaders.
    for (let i = 0; i < 10; i++) {
      expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await holder('release')).toBe(leader.elector.identity);
    expect(leader.isLeading()).toBe(true);

    const stoppedAt = Date.now();
    leader.stop.abort();
    expect(await leader.result).toBe(false);
    expect(leader.isLeading()).toBe(false);
    await eventually('failover', () => standby.elector.isLeader() || undefined);
    expect(Date.now() - stoppedAt).toBeLessThan(longLease.leaseDurationMs);
    expect(await holder('release')).toBe(standby.elector.identity);
    const lease = await env.client.get<Lease>(LEASES, env.namespace, 'release');
    expect(lease?.spec?.leaseTransitions).toBe(0);
    standby.stop.abort();
    await standby.result;
  });

  it('takes over after the lease expires when the leader dies without releasing', async () => {
    const a = candidate('crashy-a', 'expire', shortLease, false);
    await eventually('a leads', () => a.elector.isLeader() || undefined);
    const b = candidate('patient-b', 'expire', shortLease);
    await new Promise((r) => setTimeout(r, 1000));
    expect(b.elector.isLeader()).toBe(false);

    const stoppedAt = Date.now();
    a.stop.abort();
    await a.result;
    expect(await holder('expire')).toBe('crashy-a');
    await eventually('b takes over', () => b.elector.isLeader() || undefined);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(shortLease.leaseDurationMs - 1000);
    const lease = await env.client.get<Lease>(LEASES, env.namespace, 'expire');
    expect(lease?.spec).toMatchObject({
      holderIdentity: 'patient-b',
      leaseTransitions: 1,
      leaseDurationSeconds: shortLease.leaseDurationMs / 1000,
    });
    b.stop.abort();
    await b.result;
  });
});
