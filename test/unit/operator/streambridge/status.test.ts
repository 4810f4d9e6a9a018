import type { BridgeStatus } from '../../../../src/bridge/index.js';
import type { StreamBridgeStatus } from '../../../../src/api/index.js';
import { reduceStatus, shouldWrite, type PodReport } from '../../../../src/operator/streambridge/index.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function report(over: Partial<BridgeStatus> = {}, connected = { source: true, sink: true }): BridgeStatus {
  const ready = connected.source && connected.sink;
  return {
    bridge: 'orders',
    instance: 'aaaaaaaaaaaa',
    startedAt: '2026-01-01T00:00:00.000Z',
    phase: 'Running',
    source: {
      type: 'rabbitmq',
      connected: connected.source,
      reason: connected.source ? 'Connected' : 'Unreachable',
      message: connected.source ? 'connected' : 'ECONNREFUSED 10.0.0.1:5672',
    },
    sink: {
      type: 's3',
      connected: connected.sink,
      reason: connected.sink ? 'Connected' : 'AuthFailed',
      message: connected.sink ? 'connected' : 'access denied',
    },
    counters: {
      received: 10,
      receivedBytes: 100,
      delivered: 8,
      deliveredBytes: 80,
      duplicates: 0,
      deadLettered: 0,
      discarded: 0,
      retries: 1,
      reconnects: 2,
      errors: {},
    },
    inFlight: 2,
    buffer: { bytes: 500, files: 1, maxBytes: 1000 },
    conditions: [
      {
        type: 'Ready',
        status: ready ? 'True' : 'False',
        reason: ready ? 'Running' : 'NotReady',
        message: ready ? 'source and sink connected' : 'not connected',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ],
    lastDeliveryTime: '2026-01-01T00:00:05.000Z',
    ...over,
  };
}

const pod = (name: string, r?: BridgeStatus, at = T0, extra: Partial<PodReport> = {}): PodReport => ({
  pod: name,
  ready: true,
  ...(r ? { report: r, reportedAt: at } : {}),
  ...extra,
});

const cond = (s: StreamBridgeStatus, type: string) => s.conditions?.find((c) => c.type === type);

describe('reduceStatus', () => {
  it('is Pending before any pod reported', () => {
    const s = reduceStatus({ generation: 1, desiredReplicas: 1, pods: [], now: T0 });
    expect(s.phase).toBe('Pending');
    expect(s.observedGeneration).toBe(1);
    expect(cond(s, 'SourceConnected')).toMatchObject({ status: 'Unknown', reason: 'NoReport' });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'Starting' });
    expect(s.counters).toEqual({
      received: 0,
      delivered: 0,
      bufferedBytes: 0,
      bufferedFiles: 0,
      retries: 0,
      reconnects: 0,
    });
  });

  it('is Running with all replicas reporting Ready, and sums counters over pods', () => {
    const later = report({ lastDeliveryTime: '2026-01-01T00:00:09.000Z' });
    const s = reduceStatus({
      generation: 2,
      desiredReplicas: 2,
      pods: [pod('orders-bridge-0', report()), pod('orders-bridge-1', later)],
      now: T0 + 1000,
    });
    expect(s.phase).toBe('Running');
    expect(cond(s, 'Ready')).toMatchObject({ status: 'True', reason: 'Running', observedGeneration: 2 });
    expect(cond(s, 'SourceConnected')).toMatchObject({ status: 'True', reason: 'Connected' });
    expect(cond(s, 'SinkConnected')).toMatchObject({ status: 'True' });
    expect(s.counters).toEqual({
      received: 20,
      delivered: 16,
      bufferedBytes: 1000,
      bufferedFiles: 2,
      retries: 2,
      reconnects: 4,
    });
    expect(s.lastDeliveryTime).toBe('2026-01-01T00:00:09.000Z');
    expect(s.message).toBeUndefined();
  });

  it('is Degraded when a connection is down, naming the pod and the reason', () => {
    const s = reduceStatus({
      generation: 1,
      desiredReplicas: 2,
      pods: [pod('b-0', report()), pod('b-1', report({}, { source: true, sink: false }))],
      now: T0,
    });
    expect(s.phase).toBe('Degraded');
    expect(cond(s, 'SinkConnected')).toMatchObject({ status: 'False', reason: 'AuthFailed' });
    expect(cond(s, 'SinkConnected')?.message).toContain('b-1: access denied');
    expect(cond(s, 'SourceConnected')?.status).toBe('True');
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'NotReady' });
    expect(s.message).toContain('1 of 2 replica(s) ready');
  });

  it('is Degraded when a report is stale, and keeps its counters', () => {
    const s = reduceStatus({
      generation: 1,
      desiredReplicas: 1,
      pods: [pod('b-0', report(), T0, { scrapeError: 'status not reachable: ECONNREFUSED' })],
      staleAfterMs: 30_000,
      now: T0 + 45_000,
    });
    expect(s.phase).toBe('Degraded');
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'StaleReports' });
    expect(s.message).toContain('b-0: no report for 45 s (status not reachable: ECONNREFUSED)');
    expect(s.counters?.delivered).toBe(8);
  });

  it('is Degraded when fewer replicas report than desired', () => {
    const s = reduceStatus({
      generation: 1,
      desiredReplicas: 3,
      pods: [pod('b-0', report()), pod('b-1', undefined, T0, { scrapeError: 'pod Pending' })],
      now: T0,
    });
    expect(s.phase).toBe('Degraded');
    expect(s.message).toContain('1 of 3 replica(s) ready');
    expect(s.message).toContain('b-1: pod Pending');
  });

  it('is Failed when a pod reports Failed, with its last error', () => {
    const s = reduceStatus({
      generation: 1,
      desiredReplicas: 1,
      pods: [
        pod(
          'b-0',
          report({
            phase: 'Failed',
            lastError: {
              time: '2026-01-01T00:00:01Z',
              side: 'sink',
              kind: 'rejected',
              message: 'message too large',
            },
          }),
        ),
      ],
      now: T0,
    });
    expect(s.phase).toBe('Failed');
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'BridgeFailed' });
    expect(s.message).toContain('b-0 failed: sink rejected: message too large');
  });

  it('is Failed on a spec error, keeping earlier counters', () => {
    const previous: StreamBridgeStatus = {
      phase: 'Running',
      counters: { received: 5, delivered: 5, bufferedBytes: 0, bufferedFiles: 0, retries: 0, reconnects: 0 },
    };
    const s = reduceStatus({
      generation: 4,
      desiredReplicas: 0,
      pods: [],
      specError: 'StreamBridge a/b: spec.replicas is 2, but a websocket source cannot share work',
      previous,
      now: T0,
    });
    expect(s).toMatchObject({ phase: 'Failed', observedGeneration: 4, counters: previous.counters });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
  });

  it('keeps lastTransitionTime while a condition does not flip', () => {
    const first = reduceStatus({ generation: 1, desiredReplicas: 1, pods: [pod('b-0', report())], now: T0 });
    const second = reduceStatus({
      generation: 1,
      desiredReplicas: 1,
      pods: [pod('b-0', report(), T0 + 5000)],
      previous: first,
      now: T0 + 5000,
    });
    expect(cond(second, 'Ready')?.lastTransitionTime).toBe(cond(first, 'Ready')?.lastTransitionTime);
    const third = reduceStatus({
      generation: 1,
      desiredReplicas: 1,
      pods: [pod('b-0', report({}, { source: false, sink: true }), T0 + 9000)],
      previous: second,
      now: T0 + 9000,
    });
    expect(Date.parse(cond(third, 'Ready')?.lastTransitionTime ?? '')).toBe(T0 + 9000);
  });
});

describe('shouldWrite (bounded status write rate)', () => {
  const base = reduceStatus({ generation: 1, desiredReplicas: 1, pods: [pod('b-0', report())], now: T0 });
  const more = reduceStatus({
    generation: 1,
    desiredReplicas: 1,
    pods: [pod('b-0', report({ counters: { ...report().counters, delivered: 9 } }), T0 + 1000)],
    previous: base,
    now: T0 + 1000,
  });

  it('writes counter-only changes at most once per interval', () => {
    expect(shouldWrite(base, more, T0, T0 + 1000, 30_000)).toBe(false);
    expect(shouldWrite(base, more, T0, T0 + 30_000, 30_000)).toBe(true);
    expect(shouldWrite(base, more, undefined, T0, 30_000)).toBe(true);
  });

  it('writes nothing when nothing changed, and phase/condition changes at once', () => {
    expect(shouldWrite(base, base, undefined, T0, 30_000)).toBe(false);
    const degraded = reduceStatus({
      generation: 1,
      desiredReplicas: 1,
      pods: [pod('b-0', report({}, { source: false, sink: true }))],
      previous: base,
      now: T0,
    });
    expect(shouldWrite(base, degraded, T0, T0 + 10, 30_000)).toBe(true);
  });
});

describe('reduceStatus: monotonic totals across restarts', () => {
  type Counts = { received: number; delivered: number; retries: number; reconnects: number };
  /** A report of one bridge process: `instance` names its life, the counts are since it started. */
  const life = (
    instance: string,
    c: Partial<Counts>,
    startedAt = '2026-01-01T00:00:00.000Z',
  ): BridgeStatus => {
    const base = report();
    return {
      ...base,
      instance,
      startedAt,
      counters: { ...base.counters, received: 0, delivered: 0, retries: 0, reconnects: 0, ...c },
    };
  };
  const step = (previous: StreamBridgeStatus | undefined, pods: PodReport[], now: number) =>
    reduceStatus({
      generation: 1,
      desiredReplicas: pods.length,
      pods,
      now,
      ...(previous ? { previous } : {}),
    });
  const totals = (s: StreamBridgeStatus) => {
    const { received, delivered, retries, reconnects } = s.counters!;
    return { received, delivered, retries, reconnects };
  };
  const entry = (s: StreamBridgeStatus, name: string) => s.pods?.find((p) => p.name === name);

  it('adds the difference within one life, and the whole new life after a restart', () => {
    const s1 = step(
      undefined,
      [pod('b-0', life('aaaa', { received: 10, delivered: 8, retries: 1 }), T0)],
      T0,
    );
    expect(totals(s1)).toEqual({ received: 10, delivered: 8, retries: 1, reconnects: 0 });
    expect(s1.pods).toEqual([
      {
        name: 'b-0',
        instance: 'aaaa',
        startedAt: '2026-01-01T00:00:00.000Z',
        received: 10,
        delivered: 8,
        retries: 1,
        reconnects: 0,
        lastReportTime: new Date(T0).toISOString(),
      },
    ]);
    const s2 = step(
      s1,
      [pod('b-0', life('aaaa', { received: 15, delivered: 12, retries: 1 }), T0 + 1000)],
      T0 + 1000,
    );
    expect(totals(s2)).toEqual({ received: 15, delivered: 12, retries: 1, reconnects: 0 });
    // The pod restarts: the new process counts from zero.
    const restarted = life('bbbb', { received: 4, delivered: 3 }, '2026-01-01T00:00:02.000Z');
    const s3 = step(s2, [pod('b-0', restarted, T0 + 3000)], T0 + 3000);
    expect(totals(s3)).toEqual({ received: 19, delivered: 15, retries: 1, reconnects: 0 });
    expect(entry(s3, 'b-0')).toMatchObject({
      instance: 'bbbb',
      delivered: 3,
      startedAt: '2026-01-01T00:00:02.000Z',
    });
    const s4 = step(
      s3,
      [pod('b-0', life('bbbb', { received: 6, delivered: 6, reconnects: 2 }), T0 + 4000)],
      T0 + 4000,
    );
    expect(totals(s4)).toEqual({ received: 21, delivered: 18, retries: 1, reconnects: 2 });
  });

  it('two pods, one restarting: the other only adds its difference', () => {
    const s1 = step(
      undefined,
      [pod('b-0', life('a0', { delivered: 8 }), T0), pod('b-1', life('a1', { delivered: 8 }), T0)],
      T0,
    );
    expect(s1.counters?.delivered).toBe(16);
    const s2 = step(
      s1,
      [
        pod('b-0', life('a0', { delivered: 12 }), T0 + 1000),
        pod('b-1', life('b1', { delivered: 2 }), T0 + 1000),
      ],
      T0 + 1000,
    );
    expect(s2.counters?.delivered).toBe(16 + 4 + 2);
    expect(s2.pods?.map((p) => [p.name, p.instance, p.delivered])).toEqual([
      ['b-0', 'a0', 12],
      ['b-1', 'b1', 2],
    ]);
  });

  it('after a controller restart (only the previous status): reports of the same lives add their differences', () => {
    const before = step(
      undefined,
      [pod('b-0', life('a0', { delivered: 50 }), T0), pod('b-1', life('a1', { delivered: 30 }), T0)],
      T0,
    );
    // The new controller has not reached the pods yet: nothing changes.
    const unreached = step(
      before,
      [
        pod('b-0', undefined, T0, { scrapeError: 'status not reachable: ECONNREFUSED' }),
        pod('b-1', undefined, T0, { scrapeError: 'pod Pending' }),
      ],
      T0 + 60_000,
    );
    expect(unreached.counters?.delivered).toBe(80);
    expect(unreached.pods).toEqual(before.pods);
    // Then it does: b-0 moved on in the same life, b-1 restarted while the controller was away.
    const reached = step(
      unreached,
      [
        pod('b-0', life('a0', { delivered: 55 }), T0 + 61_000),
        pod('b-1', life('c1', { delivered: 7 }), T0 + 61_000),
      ],
      T0 + 61_000,
    );
    expect(reached.counters?.delivered).toBe(80 + 5 + 7);
    // A report no newer than the entry (taken before the last write) adds nothing.
    const again = step(
      reached,
      [
        pod('b-0', life('a0', { delivered: 55 }), T0 + 61_000),
        pod('b-1', life('c1', { delivered: 7 }), T0 + 61_000),
      ],
      T0 + 62_000,
    );
    expect(again.counters?.delivered).toBe(92);
  });

  it('drops a pod scaled away (its counts stay); a pod of that name later is a new life', () => {
    const s1 = step(
      undefined,
      [pod('b-0', life('a0', { delivered: 10 }), T0), pod('b-1', life('a1', { delivered: 20 }), T0)],
      T0,
    );
    const s2 = step(s1, [pod('b-0', life('a0', { delivered: 11 }), T0 + 1000)], T0 + 1000);
    expect(s2.counters?.delivered).toBe(31);
    expect(s2.pods?.map((p) => p.name)).toEqual(['b-0']);
    const s3 = step(
      s2,
      [
        pod('b-0', life('a0', { delivered: 11 }), T0 + 2000),
        pod('b-1', life('n1', { delivered: 4 }), T0 + 2000),
      ],
      T0 + 2000,
    );
    expect(s3.counters?.delivered).toBe(35);
    expect(entry(s3, 'b-1')?.instance).toBe('n1');
  });

  it('continues a status written without pods from where its totals were, never backwards', () => {
    const older: StreamBridgeStatus = {
      phase: 'Running',
      counters: {
        received: 500,
        delivered: 480,
        bufferedBytes: 0,
        bufferedFiles: 0,
        retries: 3,
        reconnects: 1,
      },
    };
    // The sums of the current reports are smaller (a pod restarted before): the totals stay.
    const s1 = step(older, [pod('b-0', life('a0', { received: 40, delivered: 30, retries: 5 }), T0)], T0);
    expect(totals(s1)).toEqual({ received: 500, delivered: 480, retries: 5, reconnects: 1 });
    expect(entry(s1, 'b-0')).toMatchObject({ instance: 'a0', delivered: 30 });
    // From then on, differences.
    const s2 = step(
      s1,
      [pod('b-0', life('a0', { received: 45, delivered: 36, retries: 5 }), T0 + 1000)],
      T0 + 1000,
    );
    expect(totals(s2)).toEqual({ received: 505, delivered: 486, retries: 5, reconnects: 1 });
    // Larger sums win.
    const s3 = step(older, [pod('b-0', life('a0', { received: 900, delivered: 900 }), T0)], T0);
    expect(s3.counters).toMatchObject({ received: 900, delivered: 900 });
  });

  it('writes no entries over older totals until every pod has reported (none is counted twice)', () => {
    const older: StreamBridgeStatus = {
      counters: {
        received: 300,
        delivered: 300,
        bufferedBytes: 0,
        bufferedFiles: 0,
        retries: 0,
        reconnects: 0,
      },
    };
    const partial = step(older, [pod('b-0', life('a0', { delivered: 200 }), T0), pod('b-1')], T0);
    expect(partial.pods).toBeUndefined();
    expect(partial.counters?.delivered).toBe(300);
    const all = step(
      partial,
      [
        pod('b-0', life('a0', { delivered: 210 }), T0 + 1000),
        pod('b-1', life('a1', { delivered: 110 }), T0 + 1000),
      ],
      T0 + 1000,
    );
    expect(all.counters?.delivered).toBe(320);
    expect(all.pods).toHaveLength(2);
    const next = step(all, [pod('b-0', life('a0', { delivered: 211 }), T0 + 2000), pod('b-1')], T0 + 2000);
    expect(next.counters?.delivered).toBe(321);
    // A first status has nothing earlier to attribute: entries (possibly none) are written at once.
    expect(step(undefined, [pod('b-0')], T0).pods).toEqual([]);
  });

  it("adds a restarted process's last counts (seen but not yet written) before its new life", () => {
    const s1 = step(undefined, [pod('b-0', life('a0', { delivered: 8 }), T0)], T0);
    // The controller saw a0 at 10 (status write deferred), then the container restarted as b0.
    const s2 = step(
      s1,
      [
        pod('b-0', life('b0', { delivered: 3 }), T0 + 2000, {
          priorLife: { report: life('a0', { delivered: 10 }), reportedAt: T0 + 1000 },
        }),
      ],
      T0 + 2000,
    );
    expect(s2.counters?.delivered).toBe(8 + 2 + 3);
    // Once the entry names the new life, the prior life is not added again.
    const s3 = step(
      s2,
      [
        pod('b-0', life('b0', { delivered: 4 }), T0 + 3000, {
          priorLife: { report: life('a0', { delivered: 10 }), reportedAt: T0 + 1000 },
        }),
      ],
      T0 + 3000,
    );
    expect(s3.counters?.delivered).toBe(14);
    // A prior life without an entry of that life is not counted (it may be in the totals already).
    const s4 = step(
      { ...s3, pods: [] },
      [
        pod('b-0', life('c0', { delivered: 1 }), T0 + 4000, {
          priorLife: { report: life('b0', { delivered: 5 }), reportedAt: T0 + 3500 },
        }),
      ],
      T0 + 4000,
    );
    expect(s4.counters?.delivered).toBe(15);
  });

  it('treats counts that went down within one instance as a new life, and ignores an older life', () => {
    // Bridges without instance ids (an older image) restart unseen but count from zero again.
    const noId = (delivered: number) => {
      const r = life('x', { delivered });
      const { instance: _i, startedAt: _s, ...rest } = r;
      return rest as BridgeStatus;
    };
    const s1 = step(undefined, [pod('b-0', noId(40), T0)], T0);
    expect(entry(s1, 'b-0')?.instance).toBeUndefined();
    const s2 = step(s1, [pod('b-0', noId(45), T0 + 1000)], T0 + 1000);
    expect(s2.counters?.delivered).toBe(45);
    const s3 = step(s2, [pod('b-0', noId(6), T0 + 2000)], T0 + 2000);
    expect(s3.counters?.delivered).toBe(51);
    // A report of a life that started before the entry's (a late answer from a replaced process) adds nothing.
    const cur = step(
      undefined,
      [pod('b-0', life('new', { delivered: 5 }, '2026-01-01T01:00:00.000Z'), T0)],
      T0,
    );
    const late = step(
      cur,
      [pod('b-0', life('old', { delivered: 99 }, '2026-01-01T00:00:00.000Z'), T0 + 1000)],
      T0 + 1000,
    );
    expect(late.counters?.delivered).toBe(5);
    expect(entry(late, 'b-0')?.instance).toBe('new');
  });

  it('counts a pod on its way out (draining during a roll) without letting it change the phase', () => {
    const s1 = step(undefined, [pod('b-0', life('a0', { delivered: 10 }), T0)], T0);
    const draining = pod('b-0', life('a0', { delivered: 14 }, '2026-01-01T00:00:00.000Z'), T0 + 1000, {
      finished: true,
      ready: false,
    });
    const s2 = reduceStatus({
      generation: 1,
      desiredReplicas: 1,
      pods: [draining],
      previous: s1,
      now: T0 + 1000,
    });
    expect(s2.counters?.delivered).toBe(14);
    // As before any pod of the new template reported: the draining pod's report is not the bridge's state.
    expect(s2.phase).toBe('Pending');
    expect(s2.message).toBe('0 of 1 replica(s) ready');
    // Its replacement (same name, new process) adds its whole life.
    const s3 = step(s2, [pod('b-0', life('b0', { delivered: 2 }), T0 + 5000)], T0 + 5000);
    expect(s3.counters?.delivered).toBe(16);
    expect(s3.phase).toBe('Running');
  });

  it('keeps the totals and entries through a spec error', () => {
    const s1 = step(undefined, [pod('b-0', life('a0', { delivered: 10 }), T0)], T0);
    const failed = reduceStatus({
      generation: 2,
      desiredReplicas: 0,
      pods: [],
      specError: 'Secret missing',
      previous: s1,
      now: T0 + 1000,
    });
    expect(failed.counters).toEqual(s1.counters);
    expect(failed.pods).toEqual(s1.pods);
  });

  it('bounds pods to 64 entries in StatefulSet order', () => {
    const many = Array.from({ length: 70 }, (_, i) => pod(`b-${i}`, life(`i${i}`, { delivered: 1 }), T0));
    const s = step(undefined, many, T0);
    expect(s.pods).toHaveLength(64);
    expect(s.pods?.[2]?.name).toBe('b-2');
    expect(s.pods?.at(-1)?.name).toBe('b-63');
    expect(s.counters?.delivered).toBe(64);
  });

  it('equals the exact sum of every life when statuses are written as shouldWrite says (simulation)', () => {
    // Three pods; at each tick one pod delivers or restarts; the controller scrapes every pod, remembers the
    // last report of a restarted process (priorLife), and writes when shouldWrite says so.
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const names = ['b-0', 'b-1', 'b-2'];
    const lives = names.map(() => ({ instance: 'l0', delivered: 0, n: 0 }));
    const prior: Array<PodReport['priorLife']> = names.map(() => undefined);
    const memory: Array<{ report: BridgeStatus; reportedAt: number } | undefined> = names.map(
      () => undefined,
    );
    let exact = 0;
    let written: StreamBridgeStatus | undefined;
    let lastWrite: number | undefined;
    let now = T0;
    let lastTotal = 0;
    for (let tick = 0; tick < 400; tick++) {
      now += 1000;
      const i = Math.floor(rand() * names.length);
      const l = lives[i]!;
      if (rand() < 0.1) {
        l.n++;
        l.instance = `l${l.n}`;
        l.delivered = 0;
      } else {
        const d = Math.floor(rand() * 10);
        l.delivered += d;
        exact += d;
      }
      const pods = names.map((name, j) => {
        const r = { report: life(lives[j]!.instance, { delivered: lives[j]!.delivered }), reportedAt: now };
        const before = memory[j];
        if (before && before.report.instance !== r.report.instance) prior[j] = before;
        memory[j] = r;
        return pod(name, r.report, now, prior[j] ? { priorLife: prior[j] } : {});
      });
      const next = reduceStatus({
        generation: 1,
        desiredReplicas: 3,
        pods,
        now,
        ...(written ? { previous: written } : {}),
      });
      expect(next.counters!.delivered).toBeGreaterThanOrEqual(lastTotal);
      if (shouldWrite(written, next, lastWrite, now, 5000)) {
        written = next;
        lastWrite = now;
        lastTotal = next.counters!.delivered;
      }
    }
    const final = reduceStatus({
      generation: 1,
      desiredReplicas: 3,
      pods: names.map((name, j) => pod(name, memory[j]!.report, now)),
      now: now + 1,
      ...(written ? { previous: written } : {}),
    });
    expect(final.counters?.delivered).toBe(exact);
  });
});

describe('shouldWrite and per-pod counts', () => {
  const at = (delivered: number, instance: string, t: number) =>
    reduceStatus({
      generation: 1,
      desiredReplicas: 1,
      pods: [pod('b-0', { ...report(), instance, counters: { ...report().counters, delivered } }, t)],
      now: t,
    });

  it('does not write report times alone; writes counts at the bounded rate, a new process at once', () => {
    const base = at(8, 'a0', T0);
    const sameCounts = reduceStatus({
      generation: 1,
      desiredReplicas: 1,
      pods: [pod('b-0', { ...report(), instance: 'a0' }, T0 + 5000)],
      previous: base,
      now: T0 + 5000,
    });
    expect(sameCounts.pods?.[0]?.lastReportTime).not.toBe(base.pods?.[0]?.lastReportTime);
    expect(shouldWrite(base, sameCounts, T0, T0 + 60_000, 30_000)).toBe(false);
    const more = reduceStatus({
      generation: 1,
      desiredReplicas: 1,
      pods: [
        pod(
          'b-0',
          { ...report(), instance: 'a0', counters: { ...report().counters, delivered: 9 } },
          T0 + 5000,
        ),
      ],
      previous: base,
      now: T0 + 5000,
    });
    expect(shouldWrite(base, more, T0, T0 + 5000, 30_000)).toBe(false);
    expect(shouldWrite(base, more, T0, T0 + 30_000, 30_000)).toBe(true);
    const restarted = reduceStatus({
      generation: 1,
      desiredReplicas: 1,
      pods: [pod('b-0', { ...report(), instance: 'b0' }, T0 + 5000)],
      previous: base,
      now: T0 + 5000,
    });
    expect(restarted.counters?.delivered).toBe(16);
    expect(shouldWrite(base, restarted, T0, T0 + 5000, 30_000)).toBe(true);
  });
});
