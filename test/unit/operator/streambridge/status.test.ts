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
    pods: [pod('b-0', report({ counters: { ...report().counters, delivered: 9 } }))],
    previous: base,
    now: T0,
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
