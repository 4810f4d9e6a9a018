import { parseBridgeConfig } from '../../../../src/bridge/index.js';
import type { OwnerReference, StreamBridge } from '../../../../src/api/index.js';
import {
  CONFIG_HASH_ANNOTATION,
  SPEC_HASH_ANNOTATION,
  desiredReplicas,
  renderBridgeConfig,
  renderConfigMap,
  renderService,
  renderStatefulSet,
  serviceDiff,
  type EnvVar,
  type ServiceObject,
} from '../../../../src/operator/streambridge/index.js';

const owner: OwnerReference = {
  apiVersion: 'plexus.dev/v1alpha1',
  kind: 'StreamBridge',
  name: 'orders',
  uid: 'u-1',
  controller: true,
  blockOwnerDeletion: true,
};

function bridge(spec: Partial<StreamBridge['spec']> = {}): StreamBridge {
  return {
    apiVersion: 'plexus.dev/v1alpha1',
    kind: 'StreamBridge',
    metadata: { name: 'orders', namespace: 'shop', uid: 'u-1', generation: 3 },
    spec: {
      source: { type: 'rabbitmq', rabbitmq: { queue: 'orders' }, credentialsSecretRef: { name: 'rabbit' } },
      sink: {
        type: 's3',
        s3: { bucket: 'archive', folder: 'orders', endpoint: 'http://minio:9000', forcePathStyle: true },
        credentialsSecretRef: { name: 's3-creds' },
      },
      ...spec,
    },
  };
}

/** The env the pod would get: secretKeyRef values looked up in fake Secrets. */
function podEnv(env: EnvVar[], secrets: Record<string, Record<string, string>>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const e of env) {
    if (e.value !== undefined) out[e.name] = e.value;
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) out[e.name] = secrets[ref.name]?.[ref.key];
  }
  return out;
}

describe('renderBridgeConfig', () => {
  it('renders a config the bridge loads, credentials only as ${ENV} references filled from the Secrets', () => {
    const r = renderBridgeConfig(bridge({ buffer: { commitFileSize: '1Mi', size: '5Gi' } }));
    expect(r.yaml).not.toContain('s3cr3t');
    expect(r.yaml).toContain('${PLEXUS_SOURCE_URL}');
    expect(r.env).toEqual(
      expect.arrayContaining([
        { name: 'PLEXUS_SOURCE_URL', valueFrom: { secretKeyRef: { name: 'rabbit', key: 'url' } } },
        {
          name: 'PLEXUS_SINK_ACCESSKEYID',
          valueFrom: { secretKeyRef: { name: 's3-creds', key: 'accessKeyId' } },
        },
      ]),
    );
    const cfg = parseBridgeConfig(
      r.yaml,
      'bridge.yaml',
      podEnv(r.env, {
        rabbit: { url: 'amqp://u:s3cr3t@rabbit:5672' },
        's3-creds': { accessKeyId: 'AK', secretAccessKey: 'SK' },
      }),
    );
    expect(cfg.name).toBe('orders');
    expect(cfg.source.rabbitmq).toMatchObject({ queue: 'orders', url: 'amqp://u:s3cr3t@rabbit:5672' });
    expect(cfg.sink.s3).toMatchObject({ bucket: 'archive', accessKeyId: 'AK', secretAccessKey: 'SK' });
    // The buffer lives on the volume; the volume size is not a bridge setting.
    expect(cfg.raw.buffer).toEqual({ bufferPath: '/var/lib/plexus/buffer', commitFileSize: '1Mi' });
    expect(cfg.buffer).toMatchObject({ bufferPath: '/var/lib/plexus/buffer', commitFileBytes: 1024 * 1024 });
  });

  it('keeps ${...} written in the spec literally (no expansion of user text)', () => {
    const sb = bridge();
    sb.spec.sink = { type: 's3', s3: { bucket: 'archive', folder: 'x-${HOME}' } };
    const r = renderBridgeConfig(sb);
    const cfg = parseBridgeConfig(r.yaml, 'bridge.yaml', {
      ...podEnv(r.env, { rabbit: { url: 'amqp://h' } }),
      HOME: '/root',
    });
    expect(cfg.sink.s3?.folder).toBe('x-${HOME}');
  });

  it('sends every key of a WebSocket Secret as a header', () => {
    const sb = bridge();
    sb.spec.source = {
      type: 'websocket',
      websocket: { url: 'wss://feed' },
      credentialsSecretRef: { name: 'ws' },
    };
    const r = renderBridgeConfig(sb, { secretKeys: { ws: ['X-Api-Key', 'Authorization'] } });
    const cfg = parseBridgeConfig(
      r.yaml,
      'bridge.yaml',
      podEnv(r.env, {
        ws: { 'X-Api-Key': 'k1', Authorization: 'Bearer t' },
        's3-creds': { accessKeyId: 'a', secretAccessKey: 'b' },
      }),
    );
    expect(cfg.source.websocket?.headers).toEqual({ 'X-Api-Key': 'k1', Authorization: 'Bearer t' });
    expect(() => renderBridgeConfig(sb)).toThrow(/Secret ws not found/);
  });

  it('requires the RabbitMQ URL Secret and names the field', () => {
    const sb = bridge();
    sb.spec.source = { type: 'rabbitmq', rabbitmq: { queue: 'q' } };
    expect(() => renderBridgeConfig(sb)).toThrow(
      /StreamBridge shop\/orders: spec.source.credentialsSecretRef is required for rabbitmq/,
    );
  });

  it('puts Kinesis checkpoints on the buffer volume and hashes config changes', () => {
    const sb = bridge();
    sb.spec.source = { type: 'kinesis', kinesis: { stream: 's' } };
    const a = renderBridgeConfig(sb);
    expect(a.config.source).toMatchObject({
      kinesis: { checkpointPath: '/var/lib/plexus/buffer/kinesis-checkpoints.json' },
    });
    const b = renderBridgeConfig({ ...sb, spec: { ...sb.spec, delivery: { maxInFlight: 10 } } });
    expect(b.hash).not.toBe(a.hash);
    expect(renderBridgeConfig(sb).hash).toBe(a.hash);
  });
});

describe('desiredReplicas', () => {
  it('defaults to 1 and refuses more than 1 for websocket and stdio sources', () => {
    expect(desiredReplicas(bridge())).toBe(1);
    expect(desiredReplicas(bridge({ replicas: 4 }))).toBe(4);
    const ws = bridge({ replicas: 2 });
    ws.spec.source = { type: 'websocket', websocket: { url: 'wss://x' } };
    expect(() => desiredReplicas(ws)).toThrow(/websocket source cannot share work between replicas/);
  });
});

describe('renderStatefulSet', () => {
  it('runs plexus bridge with probes, restricted securityContext, config hash and a buffer claim', () => {
    const sb = bridge({ replicas: 3, buffer: { size: '5Gi', storageClassName: 'fast' }, image: 'plexus:1' });
    const r = renderBridgeConfig(sb);
    const sts = renderStatefulSet(sb, r, owner);
    expect(sts.metadata).toMatchObject({
      name: 'orders-bridge',
      namespace: 'shop',
      ownerReferences: [owner],
    });
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.selector.matchLabels).toEqual({ 'plexus.dev/bridge': 'orders' });
    expect(sts.spec.template.metadata.labels['plexus.dev/bridge']).toBe('orders');
    expect(sts.spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION]).toBe(r.hash);
    const pod = sts.spec.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const c = pod.containers[0]!;
    expect(c.image).toBe('plexus:1');
    expect(c.args).toEqual(['bridge', '--config', '/etc/plexus/bridge.yaml', '--metrics-port', '9090']);
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'metrics' } });
    expect(c.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'metrics' } });
    expect(c.env).toEqual(expect.arrayContaining(r.env));
    expect(c.volumeMounts).toEqual(
      expect.arrayContaining([{ name: 'buffer', mountPath: '/var/lib/plexus/buffer' }]),
    );
    expect(pod.volumes.find((v) => v.name === 'buffer')).toBeUndefined();
    expect(sts.spec.volumeClaimTemplates).toEqual([
      {
        metadata: { name: 'buffer', labels: { 'plexus.dev/bridge': 'orders' } },
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: '5Gi' } },
          storageClassName: 'fast',
        },
      },
    ]);
    const cm = renderConfigMap(sb, r, owner);
    expect(cm.data['bridge.yaml']).toBe(r.yaml);
    expect(pod.volumes).toContainEqual({ name: 'config', configMap: { name: cm.metadata.name } });
  });

  it('uses an emptyDir without a size, the default image, and changes its hash with the spec', () => {
    const sb = bridge();
    const r = renderBridgeConfig(sb);
    const sts = renderStatefulSet(sb, r, owner, { defaultImage: 'plexus:default' });
    expect(sts.spec.volumeClaimTemplates).toBeUndefined();
    expect(sts.spec.template.spec.volumes).toContainEqual({ name: 'buffer', emptyDir: {} });
    expect(sts.spec.template.spec.containers[0]!.image).toBe('plexus:default');
    const sb2 = bridge({ resources: { limits: { memory: '512Mi' } } });
    const sts2 = renderStatefulSet(sb2, renderBridgeConfig(sb2), owner, { defaultImage: 'plexus:default' });
    expect(sts2.metadata.annotations?.[SPEC_HASH_ANNOTATION]).not.toBe(
      sts.metadata.annotations?.[SPEC_HASH_ANNOTATION],
    );
    expect(() => renderStatefulSet(sb, r, owner)).toThrow(/spec.image is not set .*PLEXUS_IMAGE/);
  });
});

describe('renderService', () => {
  it('is the headless Service the StatefulSet names, selecting its pods on the metrics port', () => {
    const sb = bridge({ image: 'plexus:1' });
    const sts = renderStatefulSet(sb, renderBridgeConfig(sb), owner);
    const svc = renderService(sb, owner);
    expect(svc).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'orders-bridge',
        namespace: 'shop',
        labels: {
          'app.kubernetes.io/name': 'plexus-bridge',
          'app.kubernetes.io/instance': 'orders',
          'app.kubernetes.io/component': 'bridge',
          'app.kubernetes.io/managed-by': 'plexus-operator',
          'plexus.dev/bridge': 'orders',
        },
        ownerReferences: [owner],
      },
      spec: {
        clusterIP: 'None',
        publishNotReadyAddresses: true,
        selector: { 'plexus.dev/bridge': 'orders' },
        ports: [{ name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' }],
      },
    });
    expect(svc.metadata.name).toBe(sts.spec.serviceName);
    expect(svc.spec.selector).toEqual(sts.spec.selector.matchLabels);
    // Every selector label is on the pod template: the Service selects exactly the bridge's pods.
    expect(sts.spec.template.metadata.labels).toMatchObject(svc.spec.selector);
    expect(sts.spec.template.spec.containers[0]!.ports).toContainEqual({
      name: svc.spec.ports[0]!.targetPort,
      containerPort: svc.spec.ports[0]!.port,
      protocol: 'TCP',
    });
  });

  it('follows the controller metrics port', () => {
    const sb = bridge({ image: 'plexus:1' });
    const svc = renderService(sb, owner, { metricsPort: 9100 });
    const sts = renderStatefulSet(sb, renderBridgeConfig(sb), owner, { metricsPort: 9100 });
    expect(svc.spec.ports).toEqual([{ name: 'metrics', port: 9100, targetPort: 'metrics', protocol: 'TCP' }]);
    expect(sts.spec.template.spec.containers[0]!.ports[0]).toMatchObject({
      name: 'metrics',
      containerPort: 9100,
    });
  });
});

describe('serviceDiff', () => {
  const desired = renderService(bridge(), owner);
  /** The Service as the API server returns it: allocated and defaulted fields added. */
  const stored = (): ServiceObject => ({
    ...structuredClone(desired),
    metadata: { ...structuredClone(desired.metadata), resourceVersion: '7' },
    spec: {
      ...structuredClone(desired.spec),
      type: 'ClusterIP',
      clusterIPs: ['None'],
    },
  });

  it('is empty for the stored rendering and for labels added by others', () => {
    expect(serviceDiff(stored(), desired)).toEqual([]);
    const extra = stored();
    extra.metadata.labels = { ...extra.metadata.labels, team: 'payments' };
    expect(serviceDiff(extra, desired)).toEqual([]);
  });

  it('names each owned field that drifted', () => {
    const s = stored();
    s.metadata.labels = { ...s.metadata.labels, 'app.kubernetes.io/component': 'other' };
    s.spec.selector = { app: 'x' };
    s.spec.ports = [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }];
    s.spec.publishNotReadyAddresses = false;
    s.metadata.ownerReferences = [];
    expect(serviceDiff(s, desired)).toEqual([
      'labels',
      'selector',
      'ports',
      'publishNotReadyAddresses',
      'ownerReferences',
    ]);
    const port = stored();
    port.spec.ports = [{ ...port.spec.ports[0]!, port: 9100 }];
    expect(serviceDiff(port, desired)).toEqual(['ports']);
    const selector = stored();
    selector.spec.selector = { ...selector.spec.selector, extra: 'y' };
    expect(serviceDiff(selector, desired)).toEqual(['selector']);
    const adopted = stored();
    adopted.metadata.ownerReferences = [{ ...owner, uid: 'someone-else' }];
    expect(serviceDiff(adopted, desired)).toEqual(['ownerReferences']);
  });
});
