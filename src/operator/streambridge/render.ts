/**
 * Pure rendering of a StreamBridge into the objects that run it: the bridge config (YAML, credentials as
 * `${ENV}` references), the ConfigMap holding it, and the StatefulSet (one buffer volume per replica).
 * No I/O here: the reconciler passes in what it read (e.g. the keys of a headers Secret).
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { OwnerReference, StreamBridge } from '../../api/index.js';
import { SINGLE_REPLICA_SOURCES } from '../../api/index.js';
import { UserInputError } from '../../errors/index.js';

export const BRIDGE_LABEL = 'plexus.dev/bridge';
export const CONFIG_HASH_ANNOTATION = 'plexus.dev/config-hash';
export const SPEC_HASH_ANNOTATION = 'plexus.dev/workload-hash';
export const SECRETS_HASH_ANNOTATION = 'plexus.dev/secrets-hash';
export const CONFIG_DIR = '/etc/plexus';
export const CONFIG_FILE = 'bridge.yaml';
export const DEFAULT_BUFFER_PATH = '/var/lib/plexus/buffer';
export const DEFAULT_METRICS_PORT = 9090;
export const BUFFER_VOLUME = 'buffer';
/** Non-root user of the Plexus image (Dockerfile `USER 1000:1000`). */
export const RUN_AS_USER = 1000;
/** Graceful shutdown budget of the bridge (20 s) plus a margin. */
export const TERMINATION_GRACE_SECONDS = 35;

export interface RenderOptions {
  /** Image when the spec names none (the controller's PLEXUS_IMAGE). */
  defaultImage?: string;
  metricsPort?: number;
  /**
   * Keys of the Secrets referenced by the spec, by Secret name (read by the reconciler): a WebSocket
   * connector sends every key of its Secret as a header, so the config needs the key names.
   */
  secretKeys?: Record<string, readonly string[]>;
  /** Hash of the referenced Secrets' data: on the pod template, so rotated credentials roll the pods. */
  secretsHash?: string;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef: { name: string; key: string; optional?: boolean } };
}

export interface RenderedBridge {
  /** The bridge config document (what `plexus bridge --config` reads). */
  config: Record<string, unknown>;
  yaml: string;
  /** Environment of the bridge container: the credentials the config references. */
  env: EnvVar[];
  /** SHA-256 (hex, 16 chars) of the config text and the env wiring. */
  hash: string;
}

/** Escapes `${` in a user-given value so the bridge's env expansion leaves it as written. */
function escapeEnv(v: unknown): unknown {
  if (typeof v === 'string') return v.split('${').join('$${');
  if (Array.isArray(v)) return v.map(escapeEnv);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = escapeEnv(x);
    return out;
  }
  return v;
}

function envName(role: 'SOURCE' | 'SINK', key: string): string {
  return `PLEXUS_${role}_${key.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function bridgeWhere(sb: StreamBridge): string {
  return `StreamBridge ${sb.metadata.namespace ?? 'default'}/${sb.metadata.name}`;
}

/** The replicas the bridge runs with; throws a UserInputError when the source cannot share work. */
export function desiredReplicas(sb: StreamBridge): number {
  const replicas = sb.spec.replicas ?? 1;
  if (replicas > 1 && SINGLE_REPLICA_SOURCES.includes(sb.spec.source.type)) {
    throw new UserInputError(
      'STREAMBRIDGE_REPLICAS',
      `${bridgeWhere(sb)}: spec.replicas is ${replicas}, but a ${sb.spec.source.type} source cannot share work between replicas (at most 1)`,
    );
  }
  return replicas;
}

export function bufferPath(sb: StreamBridge): string {
  return sb.spec.buffer?.path ?? DEFAULT_BUFFER_PATH;
}

interface Connector {
  type: string;
  credentialsSecretRef?: { name: string };
  [k: string]: unknown;
}

/**
 * One connector block of the bridge config: the spec's settings block (escaped) plus the credential fields
 * as `${ENV}` references, and the env vars that fill them from the Secret.
 */
function renderConnector(
  sb: StreamBridge,
  role: 'source' | 'sink',
  conn: Connector,
  opts: RenderOptions,
  env: EnvVar[],
): Record<string, unknown> {
  const type = conn.type;
  const ROLE = role === 'source' ? 'SOURCE' : 'SINK';
  const settings = { ...((escapeEnv(conn[type]) as Record<string, unknown> | undefined) ?? {}) };
  const secret = conn.credentialsSecretRef?.name;
  const fromSecret = (field: string, key: string, optional = false): string => {
    const name = envName(ROLE, key);
    env.push({
      name,
      valueFrom: { secretKeyRef: { name: secret!, key, ...(optional ? { optional: true } : {}) } },
    });
    return `\${${name}}`;
  };
  switch (type) {
    case 'rabbitmq':
      if (!secret) {
        throw new UserInputError(
          'STREAMBRIDGE_CREDENTIALS',
          `${bridgeWhere(sb)}: spec.${role}.credentialsSecretRef is required for rabbitmq (a Secret with key "url")`,
        );
      }
      settings.url = fromSecret('url', 'url');
      break;
    case 's3':
    case 'kinesis':
      if (secret) {
        settings.accessKeyId = fromSecret('accessKeyId', 'accessKeyId');
        settings.secretAccessKey = fromSecret('secretAccessKey', 'secretAccessKey');
      }
      break;
    case 'kafka':
      if (secret) {
        settings.sasl = {
          mechanism: fromSecret('mechanism', 'mechanism'),
          username: fromSecret('username', 'username'),
          password: fromSecret('password', 'password'),
        };
      }
      break;
    case 'websocket':
      if (secret) {
        const keys = opts.secretKeys?.[secret];
        if (!keys) {
          throw new UserInputError(
            'STREAMBRIDGE_CREDENTIALS',
            `${bridgeWhere(sb)}: spec.${role}.credentialsSecretRef: Secret ${secret} not found (its keys are the WebSocket headers)`,
          );
        }
        const headers: Record<string, string> = {};
        [...keys].sort().forEach((key, i) => {
          const name = `${envName(ROLE, 'HEADER')}_${i}`;
          env.push({ name, valueFrom: { secretKeyRef: { name: secret, key } } });
          headers[key] = `\${${name}}`;
        });
        settings.headers = headers;
      }
      break;
    default:
      break;
  }
  if (type === 'kinesis' && role === 'source' && settings.checkpointPath === undefined) {
    // Checkpoints live on the buffer volume, which survives a pod restart.
    settings.checkpointPath = `${bufferPath(sb)}/kinesis-checkpoints.json`;
  }
  return { type, [type]: settings };
}

/** The bridge config for a StreamBridge (credentials as `${ENV}` references) and the env that fills them. */
export function renderBridgeConfig(sb: StreamBridge, opts: RenderOptions = {}): RenderedBridge {
  const env: EnvVar[] = [];
  const spec = sb.spec;
  const config: Record<string, unknown> = {
    name: sb.metadata.name,
    source: renderConnector(sb, 'source', spec.source as Connector, opts, env),
    sink: renderConnector(sb, 'sink', spec.sink as Connector, opts, env),
  };
  if (spec.buffer || spec.sink.type === 's3') {
    const b: Record<string, unknown> = { ...(escapeEnv(spec.buffer ?? {}) as Record<string, unknown>) };
    delete b.path;
    delete b.size;
    delete b.storageClassName;
    config.buffer = { bufferPath: bufferPath(sb), ...b };
  }
  if (spec.delivery) config.delivery = escapeEnv(spec.delivery);
  if (spec.backoff) config.backoff = escapeEnv(spec.backoff);
  const yaml = `# Rendered from ${bridgeWhere(sb)} (generation ${sb.metadata.generation ?? 0}); do not edit.\n${stringify(config)}`;
  const hash = shortHash(yaml + JSON.stringify(env));
  return { config, yaml, env, hash };
}

export function bridgeLabels(sb: StreamBridge): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'plexus-bridge',
    'app.kubernetes.io/instance': sb.metadata.name,
    'app.kubernetes.io/component': 'bridge',
    'app.kubernetes.io/managed-by': 'plexus-operator',
    [BRIDGE_LABEL]: sb.metadata.name,
  };
}

export function selectorLabels(sb: StreamBridge): Record<string, string> {
  return { [BRIDGE_LABEL]: sb.metadata.name };
}

/** `plexus.dev/bridge=<name>`: the label selector of the bridge's pods. */
export function podSelector(sb: StreamBridge): string {
  return `${BRIDGE_LABEL}=${sb.metadata.name}`;
}

/** Name of the ConfigMap and of the StatefulSet. */
export function configMapName(sb: StreamBridge): string {
  return `${sb.metadata.name}-bridge-config`;
}
export function statefulSetName(sb: StreamBridge): string {
  return `${sb.metadata.name}-bridge`;
}
/** Name of the headless Service: the StatefulSet's `spec.serviceName` (pods are `<pod>.<service>`). */
export function serviceName(sb: StreamBridge): string {
  return statefulSetName(sb);
}

export interface ConfigMapObject {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: {
    name: string;
    namespace?: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    ownerReferences: OwnerReference[];
    resourceVersion?: string;
  };
  data: Record<string, string>;
}

export function renderConfigMap(
  sb: StreamBridge,
  rendered: RenderedBridge,
  owner: OwnerReference,
): ConfigMapObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: configMapName(sb),
      namespace: sb.metadata.namespace,
      labels: bridgeLabels(sb),
      annotations: { [CONFIG_HASH_ANNOTATION]: rendered.hash },
      ownerReferences: [owner],
    },
    data: { [CONFIG_FILE]: rendered.yaml },
  };
}

/** The object metadata the controller sets on what it owns (and the resourceVersion it replaces with). */
export interface OwnedMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  resourceVersion?: string;
}

/** A Service as plain JSON (the fields the controller sets, and the allocated ones it keeps on replace). */
export interface ServiceObject {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: OwnedMeta;
  spec: {
    type?: string;
    /** `None`: headless (no virtual IP; DNS answers with the pod addresses). Immutable once set. */
    clusterIP: string;
    clusterIPs?: string[];
    publishNotReadyAddresses: boolean;
    selector: Record<string, string>;
    ports: ServicePort[];
  };
}

export interface ServicePort {
  name: string;
  port: number;
  targetPort: number | string;
  protocol: string;
}

/**
 * The headless Service named by the StatefulSet's `serviceName`: stable DNS names for the bridge pods
 * (`<bridge>-bridge-<i>.<bridge>-bridge.<namespace>.svc`) and one port, `metrics`, that a Prometheus
 * ServiceMonitor selects. Not-ready pods are published too: a bridge whose sink is down is not ready, and
 * that is when its metrics matter most.
 */
export function renderService(
  sb: StreamBridge,
  owner: OwnerReference,
  opts: Pick<RenderOptions, 'metricsPort'> = {},
): ServiceObject {
  const port = opts.metricsPort ?? DEFAULT_METRICS_PORT;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: serviceName(sb),
      namespace: sb.metadata.namespace,
      labels: bridgeLabels(sb),
      ownerReferences: [owner],
    },
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: selectorLabels(sb),
      // The named container port: resolved per pod, so it stays right while a port change rolls.
      ports: [{ name: 'metrics', port, targetPort: 'metrics', protocol: 'TCP' }],
    },
  };
}

/**
 * What differs between a Service that exists and the rendered one, in the fields the controller owns:
 * the rendered labels (extra labels are left alone), the selector, the ports, `publishNotReadyAddresses`
 * and the controller owner reference. Empty when nothing needs replacing. Fields the API server fills in
 * (clusterIPs, ipFamilies, sessionAffinity, ...) are not compared.
 */
export function serviceDiff(current: ServiceObject, desired: ServiceObject): string[] {
  const out: string[] = [];
  const labels = current.metadata.labels ?? {};
  if (Object.entries(desired.metadata.labels ?? {}).some(([k, v]) => labels[k] !== v)) out.push('labels');
  if (!sameMap(current.spec.selector ?? {}, desired.spec.selector)) out.push('selector');
  const ports = (list: readonly ServicePort[] | undefined) =>
    JSON.stringify(
      (list ?? []).map((p) => [p.name ?? '', p.port, String(p.targetPort ?? p.port), p.protocol ?? 'TCP']),
    );
  if (ports(current.spec.ports) !== ports(desired.spec.ports)) out.push('ports');
  if ((current.spec.publishNotReadyAddresses ?? false) !== desired.spec.publishNotReadyAddresses)
    out.push('publishNotReadyAddresses');
  const owner = desired.metadata.ownerReferences?.find((r) => r.controller);
  if (owner && !current.metadata.ownerReferences?.some((r) => r.controller && r.uid === owner.uid))
    out.push('ownerReferences');
  return out;
}

function sameMap(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** A StatefulSet as plain JSON (only the fields the controller sets). */
export interface StatefulSetObject {
  apiVersion: 'apps/v1';
  kind: 'StatefulSet';
  metadata: OwnedMeta & { generation?: number };
  spec: {
    replicas: number;
    serviceName: string;
    selector: { matchLabels: Record<string, string> };
    podManagementPolicy: string;
    updateStrategy: { type: string };
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: PodSpec;
    };
    volumeClaimTemplates?: VolumeClaimTemplate[];
    persistentVolumeClaimRetentionPolicy?: { whenDeleted: string; whenScaled: string };
  };
  status?: {
    replicas?: number;
    readyReplicas?: number;
    observedGeneration?: number;
    updatedReplicas?: number;
  };
}

export interface VolumeClaimTemplate {
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    accessModes: string[];
    resources: { requests: { storage: string } };
    storageClassName?: string;
  };
}

export interface PodSpec {
  securityContext: Record<string, unknown>;
  terminationGracePeriodSeconds: number;
  automountServiceAccountToken: boolean;
  containers: ContainerSpec[];
  volumes: Array<Record<string, unknown>>;
}

export interface ContainerSpec {
  name: string;
  image: string;
  imagePullPolicy?: string;
  args: string[];
  env: EnvVar[];
  ports: Array<{ name: string; containerPort: number; protocol: string }>;
  readinessProbe: Record<string, unknown>;
  livenessProbe: Record<string, unknown>;
  startupProbe: Record<string, unknown>;
  resources?: Record<string, unknown>;
  securityContext: Record<string, unknown>;
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}

function probe(path: string, periodSeconds: number, failureThreshold: number) {
  return {
    httpGet: { path, port: 'metrics', scheme: 'HTTP' },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 2,
  };
}

/**
 * The StatefulSet running `plexus bridge`: restricted Pod Security Standard, probes on /healthz and /readyz,
 * the config hash on the pod template (a config change rolls the pods), a buffer claim per replica when
 * `spec.buffer.size` is set (an emptyDir otherwise).
 */
export function renderStatefulSet(
  sb: StreamBridge,
  rendered: RenderedBridge,
  owner: OwnerReference,
  opts: RenderOptions = {},
): StatefulSetObject {
  const image = sb.spec.image ?? opts.defaultImage;
  if (!image) {
    throw new UserInputError(
      'STREAMBRIDGE_IMAGE',
      `${bridgeWhere(sb)}: spec.image is not set and the controller has no default image (PLEXUS_IMAGE)`,
    );
  }
  const port = opts.metricsPort ?? DEFAULT_METRICS_PORT;
  const buffer = sb.spec.buffer;
  const labels = bridgeLabels(sb);
  const volumes: Array<Record<string, unknown>> = [
    { name: 'config', configMap: { name: configMapName(sb) } },
    { name: 'tmp', emptyDir: {} },
  ];
  if (!buffer?.size) volumes.push({ name: BUFFER_VOLUME, emptyDir: {} });
  const container: ContainerSpec = {
    name: 'bridge',
    image,
    ...(sb.spec.imagePullPolicy ? { imagePullPolicy: sb.spec.imagePullPolicy } : {}),
    args: ['bridge', '--config', `${CONFIG_DIR}/${CONFIG_FILE}`, '--metrics-port', String(port)],
    env: [{ name: 'NODE_ENV', value: 'production' }, { name: 'TMPDIR', value: '/tmp' }, ...rendered.env],
    ports: [{ name: 'metrics', containerPort: port, protocol: 'TCP' }],
    startupProbe: probe('/healthz', 2, 30),
    livenessProbe: probe('/healthz', 10, 3),
    readinessProbe: probe('/readyz', 5, 2),
    ...(sb.spec.resources ? { resources: sb.spec.resources } : {}),
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [
      { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
      { name: BUFFER_VOLUME, mountPath: bufferPath(sb) },
    ],
  };
  const sts: StatefulSetObject = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {
      name: statefulSetName(sb),
      namespace: sb.metadata.namespace,
      labels,
      annotations: {},
      ownerReferences: [owner],
    },
    spec: {
      replicas: desiredReplicas(sb),
      serviceName: serviceName(sb),
      selector: { matchLabels: selectorLabels(sb) },
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      template: {
        metadata: {
          labels,
          annotations: {
            ...(sb.spec.podAnnotations ?? {}),
            [CONFIG_HASH_ANNOTATION]: rendered.hash,
            ...(opts.secretsHash ? { [SECRETS_HASH_ANNOTATION]: opts.secretsHash } : {}),
          },
        },
        spec: {
          securityContext: {
            runAsNonRoot: true,
            runAsUser: RUN_AS_USER,
            runAsGroup: RUN_AS_USER,
            fsGroup: RUN_AS_USER,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
          automountServiceAccountToken: false,
          containers: [container],
          volumes,
        },
      },
      ...(buffer?.size
        ? {
            volumeClaimTemplates: [
              {
                metadata: { name: BUFFER_VOLUME, labels: selectorLabels(sb) },
                spec: {
                  accessModes: ['ReadWriteOnce'],
                  resources: { requests: { storage: String(buffer.size) } },
                  ...(buffer.storageClassName ? { storageClassName: buffer.storageClassName } : {}),
                },
              },
            ],
            // A claim holds data not yet delivered: keep it when the bridge is deleted or scaled down.
            persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
          }
        : {}),
    },
  };
  sts.metadata.annotations = { [SPEC_HASH_ANNOTATION]: shortHash(JSON.stringify(sts.spec)) };
  return sts;
}
