/**
 * The StreamBridge controller against the real kube-apiserver, with a real bridge process in the pod's
 * place: the test reads the ConfigMap and the StatefulSet's env the controller rendered, runs `plexus bridge`
 * with them (RabbitMQ → S3 on the test's RabbitMQ and S3 server), stands in for the kubelet by creating the
 * pod and marking it Running/Ready with its address, and watches the controller fill the StreamBridge status.
 * A second bridge process in the same pod's place (a restarted container) checks that the counters on the
 * resource go on from the first process's count.
 */
import { jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { StreamBridge } from '../../../src/api/index.js';
import {
  CONFIGMAPS,
  Manager,
  PODS,
  SECRETS,
  SERVICES,
  STREAMBRIDGE_RESOURCE,
  type KubeObject,
} from '../../../src/operator/index.js';
import {
  CONFIG_HASH_ANNOTATION,
  STATEFULSETS,
  setupStreamBridgeController,
  type ConfigMapObject,
  type EnvVar,
  type ServiceObject,
  type StatefulSetObject,
} from '../../../src/operator/streambridge/index.js';
import { requireService } from '../services.js';
import { deletePrefix, ensureBucket, readLines, s3Client, s3Env } from '../bridge/s3util.js';
import { deleteQueues, payload, publish, queueDepth } from '../bridge/util.js';
import { eventually, setUpKube, type KubeEnv } from './kube-env.js';

jest.setTimeout(120_000);

const repo = path.resolve(import.meta.dirname, '..', '..', '..');
const rabbit = requireService('RABBITMQ_URL');
const s3 = s3Env();
const s3c = s3Client(s3);
const bucket = 'plexus-it-streambridge';

let env: KubeEnv;
const stop = new AbortController();
let managerDone: Promise<unknown> | undefined;
const run = `sb${Date.now().toString(36)}`;
const queue = `${run}-in`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plexus-sb-'));
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  env = await setUpKube('it-sb');
  await ensureBucket(s3c, bucket);
  const manager = new Manager({ client: env.client });
  setupStreamBridgeController(manager, {
    client: env.client,
    namespace: env.namespace,
    defaultImage: 'plexus:it',
    pollIntervalMs: 300,
    minStatusIntervalMs: 500,
    staleAfterMs: 3000,
    scrapeTimeoutMs: 1000,
  });
  managerDone = manager.run(stop.signal);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  stop.abort();
  await managerDone;
  // No garbage collector here: remove what would otherwise keep another controller busy.
  if (env) {
    for (const name of [run, `${run}-norabbit`])
      await env.client.delete(STREAMBRIDGE_RESOURCE, env.namespace, name);
    await env.client.delete(PODS, env.namespace, `${run}-bridge-0`);
  }
  await deleteQueues(rabbit, [queue]);
  await deletePrefix(s3c, bucket, run);
  fs.rmSync(dir, { recursive: true, force: true });
});

const b64 = (s: string) => Buffer.from(s).toString('base64');

interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

/** The env the kubelet would give the container: literal values and secretKeyRefs resolved. */
async function containerEnv(vars: readonly EnvVar[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const v of vars) {
    if (v.value !== undefined) out[v.name] = v.value;
    const ref = v.valueFrom?.secretKeyRef;
    if (!ref) continue;
    const secret = await env.client.get<SecretObject>(SECRETS, env.namespace, ref.name);
    const data = secret?.data?.[ref.key];
    if (data === undefined) throw new Error(`Secret ${ref.name} has no key ${ref.key}`);
    out[v.name] = Buffer.from(data, 'base64').toString('utf8');
  }
  return out;
}

const getSb = () => env.client.get<StreamBridge>(STREAMBRIDGE_RESOURCE, env.namespace, run);
const getSts = () => env.client.get<StatefulSetObject>(STATEFULSETS, env.namespace, `${run}-bridge`);
const getSvc = () => env.client.get<ServiceObject>(SERVICES, env.namespace, `${run}-bridge`);

describe('StreamBridge controller', () => {
  it('renders ConfigMap, headless Service and StatefulSet, rolls on spec change, and reports a running bridge on the CR', async () => {
    const ns = env.namespace;
    await env.client.create<SecretObject>(SECRETS, ns, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'rabbit', namespace: ns },
      data: { url: b64(rabbit) },
    });
    await env.client.create<SecretObject>(SECRETS, ns, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's3-creds', namespace: ns },
      data: { accessKeyId: b64(s3.accessKeyId), secretAccessKey: b64(s3.secretAccessKey) },
    });
    const bufferDir = path.join(dir, 'buffer');
    const created = await env.client.create<StreamBridge>(STREAMBRIDGE_RESOURCE, ns, {
      apiVersion: 'plexus.dev/v1alpha1',
      kind: 'StreamBridge',
      metadata: { name: run, namespace: ns },
      spec: {
        source: {
          type: 'rabbitmq',
          rabbitmq: { queue, prefetch: 50 },
          credentialsSecretRef: { name: 'rabbit' },
        },
        sink: {
          type: 's3',
          s3: {
            bucket,
            folder: run,
            endpoint: s3.endpoint,
            region: s3.region,
            forcePathStyle: s3.forcePathStyle,
          },
          credentialsSecretRef: { name: 's3-creds' },
        },
        // Explicit: another controller process on this API server (e.g. a chart test) renders the same.
        image: 'plexus:it',
        buffer: {
          path: bufferDir,
          commitDuration: '1s',
          uploadEvery: '1s',
          size: '2Gi',
          storageClassName: 'standard',
        },
      },
    });

    // Workload: owned ConfigMap and StatefulSet with the PVC template and the expected pod template.
    const sts = await eventually('StatefulSet', getSts);
    const owner = { kind: 'StreamBridge', name: run, uid: created.metadata.uid, controller: true };
    expect(sts.metadata.ownerReferences).toEqual([expect.objectContaining(owner)]);
    expect(sts.spec.replicas).toBe(1);
    expect(sts.spec.volumeClaimTemplates?.[0]?.spec).toMatchObject({
      resources: { requests: { storage: '2Gi' } },
      storageClassName: 'standard',
    });
    const pod = sts.spec.template.spec;
    const container = pod.containers[0]!;
    expect(container.args).toEqual([
      'bridge',
      '--config',
      '/etc/plexus/bridge.yaml',
      '--metrics-port',
      '9090',
    ]);
    expect(container.image).toBe('plexus:it');
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/readyz' } });
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: '/healthz' } });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, runAsNonRoot: true });
    expect(container.volumeMounts).toContainEqual({ name: 'buffer', mountPath: bufferDir });
    // The headless Service the StatefulSet names: owned, selecting exactly its pods, on the metrics port.
    const svc = await eventually('Service', getSvc);
    expect(svc.metadata.name).toBe(sts.spec.serviceName);
    expect(svc.metadata.ownerReferences).toEqual([expect.objectContaining(owner)]);
    expect(svc.spec.clusterIP).toBe('None');
    expect(svc.spec.publishNotReadyAddresses).toBe(true);
    expect(svc.spec.selector).toEqual(sts.spec.selector.matchLabels);
    expect(sts.spec.template.metadata.labels).toMatchObject(svc.spec.selector);
    expect(svc.metadata.labels).toMatchObject({ 'app.kubernetes.io/component': 'bridge' });
    const metricsPort = container.ports.find((p) => p.name === 'metrics');
    expect(metricsPort).toMatchObject({ containerPort: 9090 });
    expect(svc.spec.ports).toEqual([
      expect.objectContaining({ name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' }),
    ]);
    // A changed selector is put back by a replace the API server accepts (clusterIP kept).
    await env.client.mergePatch(SERVICES, ns, svc.metadata.name, { spec: { selector: { app: 'other' } } });
    const restored = await eventually('Service selector restored', async () => {
      const s = await getSvc();
      return s &&
        s.metadata.resourceVersion !== svc.metadata.resourceVersion &&
        s.spec.selector?.app === undefined
        ? s
        : undefined;
    });
    expect(restored.spec.selector).toEqual(sts.spec.selector.matchLabels);
    expect(restored.spec.clusterIP).toBe('None');
    const cm = await eventually('ConfigMap', () =>
      env.client.get<ConfigMapObject>(CONFIGMAPS, ns, `${run}-bridge-config`),
    );
    expect(cm.metadata.ownerReferences).toEqual([expect.objectContaining(owner)]);
    expect(cm.data['bridge.yaml']).not.toContain(s3.secretAccessKey);
    const firstHash = sts.spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION];
    expect(firstHash).toBe(cm.metadata.annotations[CONFIG_HASH_ANNOTATION]);
    // No pod has reported yet.
    const pending = await eventually('Pending status', async () => {
      const sb = await getSb();
      return sb?.status?.phase === 'Pending' ? sb : undefined;
    });
    expect(pending.status?.observedGeneration).toBe(1);

    // A spec change rolls the pod template (new config hash) and updates the ConfigMap.
    await env.client.mergePatch<StreamBridge>(STREAMBRIDGE_RESOURCE, ns, run, {
      spec: { delivery: { maxInFlight: 500 } },
    });
    const rolled = await eventually('rolled template', async () => {
      const s = await getSts();
      return s && s.spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION] !== firstHash ? s : undefined;
    });
    const cm2 = await eventually('updated ConfigMap', async () => {
      const c = await env.client.get<ConfigMapObject>(CONFIGMAPS, ns, `${run}-bridge-config`);
      return c?.data['bridge.yaml']?.includes('maxInFlight: 500') ? c : undefined;
    });
    expect(rolled.spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION]).toBe(
      cm2.metadata.annotations[CONFIG_HASH_ANNOTATION],
    );

    // The bridge process, in the pod's place: the rendered config and env.
    const config = path.join(dir, 'bridge.yaml');
    fs.writeFileSync(config, cm2.data['bridge.yaml']!);
    const port = await freePort();
    const containerVars = await containerEnv(rolled.spec.template.spec.containers[0]!.env);
    let stderr = '';
    /** One bridge process (one container life) serving the pod's port. */
    const startBridge = (): ChildProcess => {
      const c = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/main.ts',
          'bridge',
          '--config',
          config,
          '--metrics-port',
          String(port),
          '--metrics-host',
          '127.0.0.1',
        ],
        {
          cwd: repo,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            ...containerVars,
            PLEXUS_LOG_FORMAT: 'json',
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      children.push(c);
      c.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      return c;
    };
    const child = startBridge();

    // The kubelet's part: the pod exists, runs, has an address.
    const podName = `${run}-bridge-0`;
    await env.client.create(PODS, ns, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: podName, namespace: ns, labels: rolled.spec.template.metadata.labels },
      spec: {
        automountServiceAccountToken: false,
        containers: [
          { name: 'bridge', image: 'plexus:it', ports: [{ name: 'metrics', containerPort: port }] },
        ],
      },
    } as KubeObject);
    await env.client.mergePatchStatus(PODS, ns, podName, {
      status: {
        phase: 'Running',
        podIP: '127.0.0.1',
        podIPs: [{ ip: '127.0.0.1' }],
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }],
      },
    });

    const sent = Array.from({ length: 300 }, (_, i) => payload(run, i));
    await publish(rabbit, queue, sent);
    const running = await eventually(
      `delivered 300 on the CR (bridge stderr: ${stderr.slice(-500)})`,
      async () => {
        const sb = await getSb();
        return sb?.status?.phase === 'Running' && (sb.status.counters?.delivered ?? 0) >= 300
          ? sb
          : undefined;
      },
      60_000,
    );
    const st = running.status!;
    expect(st.observedGeneration).toBe(2);
    const firstLife = st.pods?.find((p) => p.name === podName);
    expect(firstLife).toMatchObject({ instance: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(firstLife?.startedAt).toBeDefined();
    expect(st.counters?.received).toBeGreaterThanOrEqual(300);
    expect(st.lastDeliveryTime).toBeDefined();
    for (const type of ['SourceConnected', 'SinkConnected', 'Ready']) {
      expect(st.conditions?.find((c) => c.type === type)).toMatchObject({
        status: 'True',
        observedGeneration: 2,
      });
    }
    expect(await queueDepth(rabbit, queue)).toBe(0);
    const lines = await eventually('objects in S3', async () => {
      const l = await readLines(s3c, bucket, run);
      return l.length >= 300 ? l : undefined;
    });
    expect(new Set(lines)).toEqual(new Set(sent));

    // The bridge dies: its report goes stale and the bridge turns Degraded, counters kept.
    child.kill('SIGKILL');
    const degraded = await eventually(
      'Degraded after the pod stopped reporting',
      async () => {
        const sb = await getSb();
        return sb?.status?.phase === 'Degraded' ? sb : undefined;
      },
      20_000,
    );
    expect(degraded.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'StaleReports',
    });
    expect(degraded.status?.message).toContain(`${podName}: no report for`);
    const delivered1 = degraded.status?.counters?.delivered ?? 0;
    expect(delivered1).toBeGreaterThanOrEqual(300);

    // A new process in the pod's place (a restarted container: new instance, counting from zero). The
    // resource's counters go on from the first life's count instead of starting again.
    stderr = '';
    const second = startBridge();
    const more = Array.from({ length: 200 }, (_, i) => payload(run, 1000 + i));
    await publish(rabbit, queue, more);
    const resumed = await eventually(
      `delivered ${delivered1} + 200 on the CR (bridge stderr: ${stderr.slice(-500)})`,
      async () => {
        const sb = await getSb();
        const entry = sb?.status?.pods?.find((p) => p.name === podName);
        return sb?.status?.phase === 'Running' &&
          entry?.instance !== firstLife?.instance &&
          (entry?.delivered ?? 0) >= 200
          ? sb
          : undefined;
      },
      60_000,
    );
    const entry = resumed.status!.pods!.find((p) => p.name === podName)!;
    expect(entry.instance).toMatch(/^[0-9a-f]{12}$/);
    expect(Date.parse(entry.startedAt!)).toBeGreaterThan(Date.parse(firstLife!.startedAt!));
    // The total is the first life's count plus everything the second counted, in the same status write.
    expect(resumed.status!.counters!.delivered).toBe(delivered1 + entry.delivered);
    expect(resumed.status!.counters!.delivered).toBeGreaterThanOrEqual(300 + 200);
    expect(resumed.status!.counters!.received).toBeGreaterThanOrEqual(500);
    const all = await eventually('all objects in S3', async () => {
      const l = await readLines(s3c, bucket, run);
      return l.length >= 500 ? l : undefined;
    });
    expect(new Set(all)).toEqual(new Set([...sent, ...more]));
    second.kill('SIGKILL');
  });

  it('fails a bridge whose spec cannot run, naming the problem', async () => {
    const ns = env.namespace;
    const name = `${run}-norabbit`;
    await env.client.create<StreamBridge>(STREAMBRIDGE_RESOURCE, ns, {
      apiVersion: 'plexus.dev/v1alpha1',
      kind: 'StreamBridge',
      metadata: { name, namespace: ns },
      spec: { source: { type: 'rabbitmq', rabbitmq: { queue: 'q' } }, sink: { type: 'stdio', stdio: {} } },
    });
    const failed = await eventually('Failed status', async () => {
      const sb = await env.client.get<StreamBridge>(STREAMBRIDGE_RESOURCE, ns, name);
      return sb?.status?.phase === 'Failed' ? sb : undefined;
    });
    expect(failed.status?.message).toContain('spec.source.credentialsSecretRef is required for rabbitmq');
    expect(failed.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('InvalidSpec');
    expect(await env.client.get(STATEFULSETS, ns, `${name}-bridge`)).toBeUndefined();
    expect(await env.client.get(SERVICES, ns, `${name}-bridge`)).toBeUndefined();
  });
});
