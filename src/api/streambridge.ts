/**
 * StreamBridge: a long-running source → (disk buffer) → sink process, at-least-once.
 *
 * The connector, buffer, delivery and backoff settings are the bridge layer's own config schemas
 * (`src/bridge`), so the CRD accepts exactly what a bridge process runs with. Two changes for the cluster:
 * - credentials never sit in the spec: the fields that carry them (RabbitMQ URLs, AWS keys, Kafka SASL,
 *   WebSocket headers) are left out and come from the Secret named by `credentialsSecretRef`;
 * - `type` plus exactly one settings block of that name (CEL-enforced), and the buffer gets a volume size
 *   and StorageClass.
 * The CRD generator turns the schemas' unions into structural forms (enums, int-or-string).
 */
import { Type, type Static, type TOptional, type TSchema } from '@sinclair/typebox';
import {
  BackoffConfig,
  BufferConfig,
  DeliveryConfig,
  KafkaSinkSettings,
  KafkaSourceSettings,
  KinesisSinkSettings,
  KinesisSourceSettings,
  RabbitMQSinkSettings,
  RabbitMQSourceSettings,
  S3SinkSettings,
  SINK_KINDS,
  SOURCE_KINDS,
  StdioSinkSettings,
  StdioSourceSettings,
  WebSocketSinkSettings,
  WebSocketSourceSettings,
} from '../bridge/index.js';
import {
  Conditions,
  DateTime,
  ImagePullPolicy,
  LocalSecretReference,
  Quantity,
  ResourceRequirements,
  StringEnum,
  StringMap,
  type KubeSchemaOptions,
} from './kube.js';

export const STREAMBRIDGE_KIND = 'StreamBridge';
export const STREAMBRIDGE_PLURAL = 'streambridges';

export const SOURCE_TYPES = SOURCE_KINDS;
export type SourceType = (typeof SOURCE_TYPES)[number];
export const SINK_TYPES = SINK_KINDS;
export type SinkType = (typeof SINK_TYPES)[number];
/** Sources whose work cannot be shared between replicas. */
export const SINGLE_REPLICA_SOURCES: readonly SourceType[] = ['websocket', 'stdio'];

/** What the credentials Secret of each connector holds (documented in the CRD). */
export const CREDENTIAL_KEYS: Record<SourceType | SinkType, string> = {
  rabbitmq: 'url (amqp[s]://user:password@host:port/vhost)',
  s3: "accessKeyId and secretAccessKey (absent: the pod's AWS credential chain)",
  kinesis: "accessKeyId and secretAccessKey (absent: the pod's AWS credential chain)",
  kafka: 'username, password and mechanism (plain, scram-sha-256, scram-sha-512) for SASL',
  websocket: 'request headers: every key is sent as a header (e.g. an API key)',
  stdio: 'nothing (stdio takes no credentials)',
};

const SOURCE_SETTINGS = {
  rabbitmq: Type.Omit(RabbitMQSourceSettings, ['url']),
  kinesis: Type.Omit(KinesisSourceSettings, ['accessKeyId', 'secretAccessKey']),
  websocket: Type.Omit(WebSocketSourceSettings, ['headers']),
  stdio: StdioSourceSettings,
  kafka: Type.Omit(KafkaSourceSettings, ['sasl']),
} satisfies Record<SourceType, TSchema>;

const SINK_SETTINGS = {
  s3: Type.Omit(S3SinkSettings, ['accessKeyId', 'secretAccessKey']),
  rabbitmq: Type.Omit(RabbitMQSinkSettings, ['url']),
  kinesis: Type.Omit(KinesisSinkSettings, ['accessKeyId', 'secretAccessKey']),
  kafka: Type.Omit(KafkaSinkSettings, ['sasl']),
  websocket: Type.Omit(WebSocketSinkSettings, ['headers']),
  stdio: StdioSinkSettings,
} satisfies Record<SinkType, TSchema>;

function connector<S extends Record<string, TSchema>>(settings: S, role: 'source' | 'sink') {
  const types = Object.keys(settings) as Array<keyof S & string>;
  const blocks = Object.fromEntries(types.map((t) => [t, Type.Optional(settings[t]!)])) as unknown as {
    [K in keyof S]: TOptional<S[K]>;
  };
  return Type.Object(
    {
      type: StringEnum(types, { description: `Connector type: ${types.join(', ')}.` }),
      ...blocks,
      credentialsSecretRef: Type.Optional(
        Type.Object(
          { name: LocalSecretReference.properties.name },
          {
            additionalProperties: false,
            description:
              'Secret with the credentials, by type: ' +
              types.map((t) => `${t}: ${CREDENTIAL_KEYS[t as SourceType | SinkType]}`).join('; ') +
              '.',
          },
        ),
      ),
    },
    {
      additionalProperties: false,
      description: `The ${role}: \`type\` plus the settings block of that name (and no other).`,
      'x-kubernetes-validations': types.map((t) => ({
        rule: `self.type == '${t}' ? has(self.${t}) : !has(self.${t})`,
        message: `${role}.${t} must be set exactly when ${role}.type is ${t}`,
      })),
    } satisfies KubeSchemaOptions,
  );
}

export const BridgeSource = connector(SOURCE_SETTINGS, 'source');
export type BridgeSource = Static<typeof BridgeSource>;
export const BridgeSink = connector(SINK_SETTINGS, 'sink');
export type BridgeSink = Static<typeof BridgeSink>;

const bufferSettings = Type.Omit(BufferConfig, ['bufferPath']);

export const BridgeBuffer = Type.Object(
  {
    path: Type.Optional(
      Type.String({
        description: 'Directory of the disk buffer in the bridge container (on the buffer volume).',
        minLength: 1,
        maxLength: 4096,
        pattern: '^/',
        default: '/var/lib/plexus/buffer',
      }),
    ),
    ...bufferSettings.properties,
    size: Type.Optional(Quantity('Size of the buffer volume per replica; absent: an emptyDir, not a claim.')),
    storageClassName: Type.Optional(
      Type.String({ description: 'StorageClass of the buffer volume claim.', minLength: 1, maxLength: 253 }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Durable disk buffer between source and sink (always used by the s3 sink), on a volume of its own per replica.',
  },
);
export type BridgeBuffer = Static<typeof BridgeBuffer>;

export const StreamBridgeSpec = Type.Object(
  {
    source: BridgeSource,
    sink: BridgeSink,
    buffer: Type.Optional(BridgeBuffer),
    delivery: Type.Optional(DeliveryConfig),
    backoff: Type.Optional(BackoffConfig),
    replicas: Type.Optional(
      Type.Integer({
        description: 'Bridge pods. websocket and stdio sources allow at most 1.',
        minimum: 0,
        maximum: 64,
        default: 1,
        format: 'int32',
      }),
    ),
    image: Type.Optional(
      Type.String({
        description: "Bridge image; default: the controller's Plexus image.",
        minLength: 1,
        maxLength: 512,
      }),
    ),
    imagePullPolicy: Type.Optional(ImagePullPolicy),
    resources: Type.Optional(ResourceRequirements),
    podAnnotations: Type.Optional(
      StringMap(Type.String({ description: 'Annotation value.', maxLength: 4096 }), {
        maxProperties: 32,
        description: 'Annotations added to the bridge pods.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Desired bridge.',
    'x-kubernetes-validations': [
      {
        rule: "!(self.source.type in ['websocket', 'stdio']) || !has(self.replicas) || self.replicas <= 1",
        message: 'websocket and stdio sources run with at most 1 replica',
        fieldPath: '.replicas',
      },
      {
        rule: 'self.source.type == oldSelf.source.type',
        message: 'source.type is immutable (checkpoints are source-specific)',
        fieldPath: '.source.type',
      },
    ],
  } satisfies KubeSchemaOptions,
);
export type StreamBridgeSpec = Static<typeof StreamBridgeSpec>;

export const STREAMBRIDGE_PHASES = ['Pending', 'Running', 'Degraded', 'Failed'] as const;
export type StreamBridgePhase = (typeof STREAMBRIDGE_PHASES)[number];
export const STREAMBRIDGE_CONDITION_TYPES = ['SourceConnected', 'SinkConnected', 'Ready'] as const;
export type StreamBridgeConditionType = (typeof STREAMBRIDGE_CONDITION_TYPES)[number];

const counter = (description: string) => Type.Integer({ description, minimum: 0, format: 'int64' });

export const BridgeCounters = Type.Object(
  {
    received: counter('Messages received from the source.'),
    delivered: counter('Messages the sink confirmed.'),
    bufferedBytes: counter('Bytes in the disk buffer, not yet delivered.'),
    bufferedFiles: counter('Committed buffer segments not yet delivered.'),
    retries: counter('Delivery attempts retried.'),
    reconnects: counter('Connections re-established (source and sink).'),
  },
  {
    additionalProperties: false,
    description:
      'Counters over the life of the bridge. received, delivered, retries and reconnects are monotonic totals: ' +
      'each report adds what its pod counted since the report before (a restarted pod, seen by a new ' +
      'instance in pods, adds its whole new count), so they survive pod and controller restarts. ' +
      'bufferedBytes and bufferedFiles are sums over the current reports.',
  },
);
export type BridgeCounters = Static<typeof BridgeCounters>;

/** Bound of status.pods (spec.replicas is at most 64). */
export const MAX_BRIDGE_POD_STATUSES = 64;

export const BridgePodCounts = Type.Object(
  {
    name: Type.String({ description: 'Pod name.', minLength: 1, maxLength: 253 }),
    instance: Type.Optional(
      Type.String({
        description:
          'Random id of the bridge process the counts come from (a new one on every restart); absent when the bridge reports none (an older bridge image).',
        minLength: 1,
        maxLength: 64,
      }),
    ),
    startedAt: Type.Optional(DateTime('When that bridge process started.')),
    received: counter('Messages that process received, as of lastReportTime.'),
    delivered: counter('Messages that process delivered, as of lastReportTime.'),
    retries: counter('Delivery attempts that process retried, as of lastReportTime.'),
    reconnects: counter('Connections that process re-established, as of lastReportTime.'),
    lastReportTime: DateTime('When the controller took the report these counts come from.'),
  },
  {
    additionalProperties: false,
    description: "One bridge pod's counts as already added into counters (the base of the next difference).",
  },
);
export type BridgePodCounts = Static<typeof BridgePodCounts>;

export const StreamBridgeStatus = Type.Object(
  {
    phase: Type.Optional(
      StringEnum(STREAMBRIDGE_PHASES, { description: 'Summary: Pending, Running, Degraded or Failed.' }),
    ),
    observedGeneration: Type.Optional(counter('metadata.generation this status reflects.')),
    conditions: Type.Optional(Conditions(STREAMBRIDGE_CONDITION_TYPES)),
    counters: Type.Optional(BridgeCounters),
    pods: Type.Optional(
      Type.Array(BridgePodCounts, {
        description:
          `Per bridge pod (at most ${MAX_BRIDGE_POD_STATUSES}, by name): the process instance and its counts ` +
          'last added into counters. A pod that is gone is dropped (its counts stay in the totals).',
        maxItems: MAX_BRIDGE_POD_STATUSES,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      } satisfies KubeSchemaOptions),
    ),
    lastDeliveryTime: Type.Optional(DateTime('When the sink last confirmed a message.')),
    message: Type.Optional(
      Type.String({
        description: 'Last error or notable event, truncated to 1024 characters.',
        maxLength: 1024,
      }),
    ),
  },
  { additionalProperties: false, description: 'Observed state, written by the controller only.' },
);
export type StreamBridgeStatus = Static<typeof StreamBridgeStatus>;
