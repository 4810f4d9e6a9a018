import type { BridgeStatus } from '../../../../src/bridge/index.js';
import type { StreamBridge } from '../../../../src/api/index.js';
import {
  CONFIGMAPS,
  PODS,
  SECRETS,
  SERVICES,
  STREAMBRIDGE_RESOURCE,
  type KubeObject,
  type ResourceType,
} from '../../../../src/operator/index.js';
import { silentLogger } from '../../../../src/obs/index.js';
import {
  CONFIG_HASH_ANNOTATION,
  SECRETS_HASH_ANNOTATION,
  STATEFULSETS,
  StreamBridgeReconciler,
  streamBridgeSettingsFromEnv,
  type StreamBridgeControllerOptions,
  type PodObject,
  type ServiceObject,
  type StatefulSetObject,
} from '../../../../src/operator/streambridge/index.js';
import { FakeKube } from '../fake-kube.js';
import { ManualClock } from '../fake-clock.js';

const NS = 'shop';

type Json = Record<string, unknown>;

/** RFC 7386 merge patch (null removes a member), as the API server applies it. */
function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Json =
    target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Json) } : {};
  for (const [k, v] of Object.entries(patch as Json)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

/** FakeKube whose status patches are real merge patches. */
class MergeKube extends FakeKube {
  override async mergePatchStatus<T extends KubeObject>(
    rt: ResourceType,
    namespace: string,
    name: string,
    patch: object,
  ): Promise<T> {
    this.calls.push('mergePatchStatus');
    const cur = await this.get<KubeObject & { status?: object }>(rt, namespace, name);
    if (!cur) throw new Error(`${name} not found`);
    const status = applyMergePatch(cur.status ?? {}, (patch as { status?: object }).status ?? {});
    return this.put(rt, { ...cur, status } as unknown as T);
  }
}

function bridge(generation = 1, maxInFlight?: number): StreamBridge {
  return {
    apiVersion: 'plexus.dev/v1alpha1',
    kind: 'StreamBridge',
    metadata: { name: 'orders', namespace: NS, uid: 'uid-1', generation },
    spec: {
      source: { type: 'rabbitmq', rabbitmq: { queue: 'orders' }, credentialsSecretRef: { name: 'rabbit' } },
      sink: { type: 'stdio', stdio: {} },
      image: 'plexus:1',
      ...(maxInFlight ? { delivery: { maxInFlight } } : {}),
    },
  };
}

function report(delivered: number, connected = true, instance = 'a1b2c3d4e5f6'): BridgeStatus {
  return {
    bridge: 'orders',
    instance,
    startedAt: '2026-01-01T00:00:00.000Z',
    phase: 'Running',
    source: { type: 'rabbitmq', connected, reason: connected ? 'Connected' : 'Unreachable', message: 'm' },
    sink: { type: 'stdio', connected: true, reason: 'Connected', message: 'connected' },
    counters: {
      received: delivered,
      receivedBytes: 0,
      delivered,
      deliveredBytes: 0,
      duplicates: 0,
      deadLettered: 0,
      discarded: 0,
      retries: 0,
      reconnects: 0,
      errors: {},
    },
    inFlight: 0,
    conditions: [
      {
        type: 'Ready',
        status: connected ? 'True' : 'False',
        reason: connected ? 'Running' : 'NotReady',
        message: connected ? 'ok' : 'source: m',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ],
  };
}

describe('StreamBridgeReconciler', () => {
  it('creates the workload, reports status at a bounded rate, rolls on spec change, and goes stale', async () => {
    const kube = new MergeKube();
    const clock = new ManualClock();
    let next: BridgeStatus | Error = new Error('connect ECONNREFUSED');
    const scraped: string[] = [];
    const reconciler = new StreamBridgeReconciler({
      client: kube,
      clock,
      pollIntervalMs: 1000,
      minStatusIntervalMs: 10_000,
      staleAfterMs: 5000,
      scraper: async (pod: PodObject) => {
        scraped.push(pod.metadata.name);
        if (next instanceof Error) throw next;
        return next;
      },
    });
    const req = {
      namespace: NS,
      name: 'orders',
      key: `${NS}/orders`,
      signal: new AbortController().signal,
      logger: silentLogger(),
    };
    const sbRead = () => kube.get<StreamBridge>(STREAMBRIDGE_RESOURCE, NS, 'orders');
    kube.put(STREAMBRIDGE_RESOURCE, bridge());

    // 0. The credentials Secret is missing: Failed (SecretMissing), retried at the poll interval.
    expect(await reconciler.reconcile(req)).toEqual({ requeueAfterMs: 1000 });
    const missing = (await sbRead())?.status;
    expect(missing?.phase).toBe('Failed');
    expect(missing?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('SecretMissing');
    expect(missing?.message).toContain(
      'spec.source.credentialsSecretRef: Secret rabbit not found in namespace shop',
    );
    expect(await kube.get(STATEFULSETS, NS, 'orders-bridge')).toBeUndefined();
    const secret = (url: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'rabbit', namespace: NS },
      data: { url: Buffer.from(url).toString('base64') },
    });
    kube.put(SECRETS, secret('amqp://a'));

    // 1. Workload created; nothing reports yet.
    expect(await reconciler.reconcile(req)).toEqual({ requeueAfterMs: 1000 });
    const sts = await kube.get<StatefulSetObject>(STATEFULSETS, NS, 'orders-bridge');
    expect(sts?.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'StreamBridge',
      uid: 'uid-1',
      controller: true,
    });
    expect(await kube.get(CONFIGMAPS, NS, 'orders-bridge-config')).toBeDefined();
    const svc = await kube.get<ServiceObject>(SERVICES, NS, 'orders-bridge');
    expect(svc?.spec).toMatchObject({ clusterIP: 'None', selector: sts?.spec.selector.matchLabels });
    expect(svc?.metadata.ownerReferences).toEqual(sts?.metadata.ownerReferences);
    expect((await sbRead())?.status).toMatchObject({ phase: 'Pending', observedGeneration: 1 });

    // 2. A running pod reports: Running, counters.
    kube.put(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'orders-bridge-0',
        namespace: NS,
        uid: 'p1',
        labels: { 'plexus.dev/bridge': 'orders' },
      },
      status: { phase: 'Running', podIP: '10.0.0.5', conditions: [{ type: 'Ready', status: 'True' }] },
    } as PodObject);
    next = report(5);
    await reconciler.reconcile(req);
    expect((await sbRead())?.status).toMatchObject({ phase: 'Running', counters: { delivered: 5 } });
    expect(scraped).toEqual(['orders-bridge-0']);

    // 3. Counters alone move: not written before the interval; the key comes back when it is due.
    const writes = () => kube.calls.filter((c) => c === 'mergePatchStatus').length;
    const before = writes();
    await clock.advance(2000);
    next = report(9);
    expect(await reconciler.reconcile(req)).toEqual({ requeueAfterMs: 1000 });
    expect(writes()).toBe(before);
    expect((await sbRead())?.status?.counters?.delivered).toBe(5);
    await clock.advance(8000);
    await reconciler.reconcile(req);
    expect(writes()).toBe(before + 1);
    expect((await sbRead())?.status?.counters?.delivered).toBe(9);

    // 4. A connection drops: written at once.
    await clock.advance(100);
    next = report(9, false);
    await reconciler.reconcile(req);
    const degraded = (await sbRead())?.status;
    expect(degraded?.phase).toBe('Degraded');
    expect(degraded?.conditions?.find((c) => c.type === 'SourceConnected')).toMatchObject({
      status: 'False',
      reason: 'Unreachable',
    });

    // 5. Spec change: new config hash on the pod template, observedGeneration follows.
    const cur = (await sbRead())!;
    kube.put(STREAMBRIDGE_RESOURCE, { ...bridge(2, 100), status: cur.status });
    next = report(9);
    await reconciler.reconcile(req);
    const rolled = await kube.get<StatefulSetObject>(STATEFULSETS, NS, 'orders-bridge');
    expect(rolled?.spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION]).not.toBe(
      sts?.spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION],
    );
    expect((await sbRead())?.status).toMatchObject({ phase: 'Running', observedGeneration: 2 });

    // Rotated credentials roll the pods too.
    kube.put(SECRETS, secret('amqp://b'));
    await reconciler.reconcile(req);
    const rotated = await kube.get<StatefulSetObject>(STATEFULSETS, NS, 'orders-bridge');
    expect(rotated?.spec.template.metadata.annotations[SECRETS_HASH_ANNOTATION]).toBeDefined();
    expect(rotated?.spec.template.metadata.annotations[SECRETS_HASH_ANNOTATION]).not.toBe(
      rolled?.spec.template.metadata.annotations[SECRETS_HASH_ANNOTATION],
    );

    // 6. The pod stops answering: Degraded once its last report is stale.
    next = new Error('connect ECONNREFUSED');
    await clock.advance(2000);
    await reconciler.reconcile(req);
    expect((await sbRead())?.status?.phase).toBe('Running');
    await clock.advance(4000);
    await reconciler.reconcile(req);
    const stale = (await sbRead())?.status;
    expect(stale?.phase).toBe('Degraded');
    expect(stale?.message).toContain(
      'orders-bridge-0: no report for 6 s (status not reachable: connect ECONNREFUSED)',
    );
  });

  it('keeps counters monotonic through a container restart and a roll of the bridge pod', async () => {
    const kube = new MergeKube();
    const clock = new ManualClock();
    let next: BridgeStatus | Error = report(0);
    const reconciler = new StreamBridgeReconciler({
      client: kube,
      clock,
      pollIntervalMs: 1000,
      minStatusIntervalMs: 10_000,
      staleAfterMs: 5000,
      scraper: async () => {
        if (next instanceof Error) throw next;
        return next;
      },
    });
    const req = {
      namespace: NS,
      name: 'orders',
      key: `${NS}/orders`,
      signal: new AbortController().signal,
      logger: silentLogger(),
    };
    const status = async () => (await kube.get<StreamBridge>(STREAMBRIDGE_RESOURCE, NS, 'orders'))?.status;
    kube.put(STREAMBRIDGE_RESOURCE, bridge());
    kube.put(SECRETS, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'rabbit', namespace: NS },
      data: { url: Buffer.from('amqp://a').toString('base64') },
    } as KubeObject);
    const podObject = (uid: string, deleting = false): PodObject =>
      ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'orders-bridge-0',
          namespace: NS,
          uid,
          labels: { 'plexus.dev/bridge': 'orders' },
          ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:30Z' } : {}),
        },
        status: { phase: 'Running', podIP: '10.0.0.5', conditions: [{ type: 'Ready', status: 'True' }] },
      }) as PodObject;
    kube.put(PODS, podObject('p1'));
    next = report(100, true, 'life1');
    await reconciler.reconcile(req);
    expect(await status()).toMatchObject({
      phase: 'Running',
      counters: { delivered: 100 },
      pods: [{ name: 'orders-bridge-0', instance: 'life1', delivered: 100 }],
    });

    // The process delivers 20 more: seen, but the counter-only write waits for the interval.
    await clock.advance(1000);
    next = report(120, true, 'life1');
    await reconciler.reconcile(req);
    expect((await status())?.counters?.delivered).toBe(100);
    // The container restarts (same pod): the new process counts from zero. Written at once, with the 20.
    await clock.advance(1000);
    next = report(5, true, 'life2');
    await reconciler.reconcile(req);
    expect(await status()).toMatchObject({
      counters: { delivered: 125 },
      pods: [{ name: 'orders-bridge-0', instance: 'life2', delivered: 5 }],
    });

    // A roll: the pod is being deleted and drains (still counted), then its replacement starts afresh.
    await clock.advance(10_000);
    kube.put(PODS, podObject('p1', true));
    next = report(30, true, 'life2');
    await reconciler.reconcile(req);
    expect((await status())?.counters?.delivered).toBe(150);
    kube.remove(PODS, `${NS}/orders-bridge-0`);
    kube.put(PODS, podObject('p2'));
    await clock.advance(1000);
    next = report(7, true, 'life3');
    await reconciler.reconcile(req);
    expect(await status()).toMatchObject({
      phase: 'Running',
      counters: { delivered: 157 },
      pods: [{ name: 'orders-bridge-0', instance: 'life3', delivered: 7 }],
    });

    // A new controller (nothing remembered) goes on from the status alone.
    const restarted = new StreamBridgeReconciler({
      client: kube,
      clock,
      pollIntervalMs: 1000,
      minStatusIntervalMs: 0,
      scraper: async () => report(9, true, 'life3'),
    });
    await clock.advance(1000);
    await restarted.reconcile(req);
    expect((await status())?.counters?.delivered).toBe(159);
  });

  it('replaces a drifted Service, leaves a foreign non-headless one alone and says so once', async () => {
    const kube = new MergeKube();
    const sb = bridge();
    sb.spec.source = { type: 'stdio', stdio: {} };
    kube.put(STREAMBRIDGE_RESOURCE, sb);
    const events: string[] = [];
    const recorder = {
      record: async (_o: KubeObject, type: string, reason: string, _a: string, note: string) => {
        events.push(`${type} ${reason}: ${note}`);
        return undefined;
      },
    };
    const reconciler = new StreamBridgeReconciler({
      client: kube,
      metricsPort: 9100,
      scraper: async () => report(0),
      events: recorder as unknown as StreamBridgeControllerOptions['events'],
    });
    const req = {
      namespace: NS,
      name: 'orders',
      key: `${NS}/orders`,
      signal: new AbortController().signal,
      logger: silentLogger(),
    };
    await reconciler.reconcile(req);
    expect(events).toEqual(
      expect.arrayContaining([
        'Normal Created: created Service orders-bridge',
        'Normal Created: created StatefulSet orders-bridge',
      ]),
    );
    const created = (await kube.get<ServiceObject>(SERVICES, NS, 'orders-bridge'))!;
    expect(created.spec.ports).toEqual([
      { name: 'metrics', port: 9100, targetPort: 'metrics', protocol: 'TCP' },
    ]);

    // Nothing changed: no replace.
    const replaces = () => kube.calls.filter((c) => c === 'replace').length;
    await reconciler.reconcile(req);
    expect(replaces()).toBe(0);

    // Someone edits the selector and the port, and adds a label: the owned fields come back, the label stays.
    kube.put(SERVICES, {
      ...created,
      metadata: { ...created.metadata, labels: { ...created.metadata.labels, team: 'payments' } },
      spec: {
        ...created.spec,
        selector: { app: 'other' },
        ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }],
      },
    } as ServiceObject);
    events.length = 0;
    await reconciler.reconcile(req);
    expect(replaces()).toBe(1);
    const fixed = (await kube.get<ServiceObject>(SERVICES, NS, 'orders-bridge'))!;
    expect(fixed.spec.selector).toEqual({ 'plexus.dev/bridge': 'orders' });
    expect(fixed.spec.ports).toEqual(created.spec.ports);
    expect(fixed.spec.clusterIP).toBe('None');
    expect(fixed.metadata.labels).toMatchObject({ team: 'payments', 'plexus.dev/bridge': 'orders' });
    expect(events).toEqual(['Normal Updated: updated Service orders-bridge (selector, ports)']);

    // A Service of that name with a cluster IP: clusterIP is immutable, so it is left alone, with one warning.
    kube.put(SERVICES, { ...fixed, spec: { ...fixed.spec, clusterIP: '10.96.0.12' } } as ServiceObject);
    events.length = 0;
    await reconciler.reconcile(req);
    await reconciler.reconcile(req);
    expect(replaces()).toBe(1);
    expect(events).toEqual([
      expect.stringMatching(
        /^Warning ServiceConflict: Service shop\/orders-bridge exists with clusterIP 10\.96\.0\.12, not headless/,
      ),
    ]);
    // The StatefulSet is still reconciled.
    expect(await kube.get(STATEFULSETS, NS, 'orders-bridge')).toBeDefined();
    expect((await kube.get<StreamBridge>(STREAMBRIDGE_RESOURCE, NS, 'orders'))?.status?.phase).not.toBe(
      'Failed',
    );

    // Deleted: created again on the next pass.
    kube.remove(SERVICES, `${NS}/orders-bridge`);
    await reconciler.reconcile(req);
    expect((await kube.get<ServiceObject>(SERVICES, NS, 'orders-bridge'))?.spec.clusterIP).toBe('None');
  });

  it('marks a bridge whose source cannot share work Failed and creates nothing', async () => {
    const kube = new MergeKube();
    const sb = bridge();
    sb.spec.source = { type: 'websocket', websocket: { url: 'wss://feed' } };
    sb.spec.replicas = 2;
    kube.put(STREAMBRIDGE_RESOURCE, sb);
    const reconciler = new StreamBridgeReconciler({ client: kube, scraper: async () => report(0) });
    const out = await reconciler.reconcile({
      namespace: NS,
      name: 'orders',
      key: `${NS}/orders`,
      signal: new AbortController().signal,
      logger: silentLogger(),
    });
    expect(out).toEqual({ requeueAfterMs: 15_000 });
    const st = (await kube.get<StreamBridge>(STREAMBRIDGE_RESOURCE, NS, 'orders'))?.status;
    expect(st?.phase).toBe('Failed');
    expect(st?.message).toMatch(/replicas|websocket/);
    expect(await kube.get(STATEFULSETS, NS, 'orders-bridge')).toBeUndefined();
    expect(await kube.get(SERVICES, NS, 'orders-bridge')).toBeUndefined();
  });
});

describe('streamBridgeSettingsFromEnv', () => {
  it('reads durations and the port, and names every bad variable', () => {
    expect(
      streamBridgeSettingsFromEnv({ PLEXUS_BRIDGE_POLL_INTERVAL: '5s', PLEXUS_BRIDGE_METRICS_PORT: '9100' }),
    ).toEqual({ pollIntervalMs: 5000, metricsPort: 9100 });
    expect(() =>
      streamBridgeSettingsFromEnv({ PLEXUS_BRIDGE_STALE_AFTER: 'soon', PLEXUS_BRIDGE_METRICS_PORT: '0' }),
    ).toThrow(/PLEXUS_BRIDGE_STALE_AFTER: "soon"[\s\S]*PLEXUS_BRIDGE_METRICS_PORT: "0"/);
  });
});
