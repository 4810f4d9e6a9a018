/**
 * StreamBridge: a long-running source → (disk buffer) → sink process, at-least-once.
 *
 * The connector settings below are the CRD's own shape: `type` names the connector and the block of the same
 * name carries its settings (exactly one block, CEL-enforced); credentials always come from a Secret
 * (`credentialsSecretRef`), never from the spec. The per-connector blocks are meant to be replaced by the
 * bridge layer's config schemas once `src/bridge` exports them; the discriminator and the secret reference
 * stay here.
 */
import { Type, type Static, type TObject, type TOptional, type TProperties } from '@sinclair/typebox';
import {
  Conditions,
  DateTime,
  Duration,
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

export const SOURCE_TYPES = ['rabbitmq', 's3', 'kinesis', 'websocket', 'stdio', 'kafka'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];
export const SINK_TYPES = ['rabbitmq', 's3', 'kinesis', 'stdio', 'kafka'] as const;
export type SinkType = (typeof SINK_TYPES)[number];
/** Sources whose work cannot be shared between replicas. */
export const SINGLE_REPLICA_SOURCES: readonly SourceType[] = ['websocket', 'stdio'];

const FRAMINGS = ['ndjson', 'json', 'raw', 'length-prefixed'] as const;
const framing = Type.Optional(
  StringEnum(FRAMINGS, {
    description: 'Record framing on byte streams: ndjson (default), json, raw, length-prefixed.',
  }),
);
const str = (description: string, maxLength = 253, minLength = 1) =>
  Type.String({ description, maxLength, minLength });
const obj = <P extends TProperties>(properties: P, description: string): TObject<P> =>
  Type.Object(properties, { additionalProperties: false, description });
const region = Type.Optional(str('AWS region, e.g. eu-west-1.', 32));
const endpoint = Type.Optional(
  Type.String({
    description: 'Endpoint URL of an API-compatible server (tests, MinIO, LocalStack).',
    maxLength: 2048,
    pattern: '^https?://.+',
  }),
);

const RabbitMQSettings = obj(
  {
    queue: Type.Optional(str('Queue to consume (source) — declared durable if missing.', 255)),
    exchange: Type.Optional(str('Exchange to publish to (sink), or to bind the source queue to.', 255, 0)),
    routingKey: Type.Optional(str('Routing key for publishing, or binding key of the source queue.', 255, 0)),
    consumerTag: Type.Optional(str('Consumer tag of the source.', 255)),
    prefetch: Type.Optional(
      Type.Integer({
        description: 'Unacknowledged messages in flight (source).',
        minimum: 1,
        maximum: 65535,
      }),
    ),
  },
  'RabbitMQ settings. The credentials Secret holds `url` (amqp[s]://user:password@host:port/vhost).',
);

const S3Settings = obj(
  {
    bucket: Type.String({ description: 'Bucket name.', minLength: 3, maxLength: 63 }),
    folder: Type.Optional(str('Key prefix (folder) inside the bucket.', 1024, 0)),
    region,
    endpoint,
    forcePathStyle: Type.Optional(
      Type.Boolean({ description: 'Path-style addressing (S3-compatible servers).' }),
    ),
    framing,
    gzip: Type.Optional(Type.Boolean({ description: 'Gzip committed segments before upload (sink).' })),
    pollInterval: Type.Optional(Duration('How often the source lists new objects.')),
  },
  'S3 settings. The credentials Secret holds accessKeyId and secretAccessKey.',
);

const KinesisSettings = obj(
  {
    stream: str('Stream name.', 128),
    region,
    endpoint,
    iteratorType: Type.Optional(
      StringEnum(['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'] as const, {
        description: 'Where the source starts on a shard without a checkpoint (default TRIM_HORIZON).',
      }),
    ),
    startTimestamp: Type.Optional(DateTime('Start time for iteratorType AT_TIMESTAMP.')),
    partitionKey: Type.Optional(
      str('Sink partition key: a JSON field name of the record; absent means random keys.', 256),
    ),
  },
  'Kinesis settings. The credentials Secret holds accessKeyId and secretAccessKey.',
);

const WebSocketSettings = obj(
  {
    url: Type.String({ description: 'Server URL.', maxLength: 2048, pattern: '^wss?://.+' }),
    reconnectEvery: Type.Optional(
      Duration('Rotate the connection this often (make-before-break); absent: only on close.'),
    ),
  },
  'WebSocket settings. Every key of the optional credentials Secret is sent as a request header.',
);

const StdioSettings = obj(
  {
    framing,
    exitOnEof: Type.Optional(Type.Boolean({ description: 'End the bridge when stdin ends (source).' })),
  },
  'Standard input (source) or output (sink) of the bridge process.',
);

const KafkaSettings = obj(
  {
    brokers: Type.Array(str('host:port of a broker.', 261), {
      description: 'Bootstrap brokers.',
      minItems: 1,
      maxItems: 16,
      'x-kubernetes-list-type': 'atomic',
    } satisfies KubeSchemaOptions),
    topic: str('Topic to consume (source) or produce to (sink).', 249),
    groupId: Type.Optional(str('Consumer group of the source (default: the bridge name).', 255)),
    clientId: Type.Optional(str('Client id.', 255)),
    tls: Type.Optional(Type.Boolean({ description: 'Connect with TLS.' })),
  },
  'Kafka settings. The optional credentials Secret holds SASL username, password and mechanism.',
);

const SETTINGS = {
  rabbitmq: RabbitMQSettings,
  s3: S3Settings,
  kinesis: KinesisSettings,
  websocket: WebSocketSettings,
  stdio: StdioSettings,
  kafka: KafkaSettings,
} as const;

function connector<const T extends readonly (keyof typeof SETTINGS)[]>(types: T, role: 'source' | 'sink') {
  const blocks = Object.fromEntries(types.map((t) => [t, Type.Optional(SETTINGS[t])])) as {
    [K in T[number]]: TOptional<(typeof SETTINGS)[K]>;
  };
  return Type.Object(
    {
      type: StringEnum(types, { description: `Connector type: ${types.join(', ')}.` }),
      ...blocks,
      credentialsSecretRef: Type.Optional(LocalSecretReference),
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

export const BridgeSource = connector(SOURCE_TYPES, 'source');
export type BridgeSource = Static<typeof BridgeSource>;
export const BridgeSink = connector(SINK_TYPES, 'sink');
export type BridgeSink = Static<typeof BridgeSink>;

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
    commitFileSize: Type.Optional(
      Quantity('Commit the active segment when it reaches this size (default 64Mi).'),
    ),
    commitDuration: Type.Optional(Duration('Commit the active segment when it is this old (default 5m).')),
    uploadEvery: Type.Optional(Duration('Upload committed segments this often (default 10s).')),
    size: Type.Optional(Quantity('Size of the buffer volume per replica; absent: an emptyDir, not a claim.')),
    storageClassName: Type.Optional(
      Type.String({ description: 'StorageClass of the buffer volume claim.', minLength: 1, maxLength: 253 }),
    ),
  },
  { additionalProperties: false, description: 'Durable disk buffer between source and sink.' },
);
export type BridgeBuffer = Static<typeof BridgeBuffer>;

export const StreamBridgeSpec = Type.Object(
  {
    source: BridgeSource,
    sink: BridgeSink,
    buffer: Type.Optional(BridgeBuffer),
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
  { additionalProperties: false, description: 'Cumulative counters, summed over replicas.' },
);
export type BridgeCounters = Static<typeof BridgeCounters>;

export const StreamBridgeStatus = Type.Object(
  {
    phase: Type.Optional(
      StringEnum(STREAMBRIDGE_PHASES, { description: 'Summary: Pending, Running, Degraded or Failed.' }),
    ),
    observedGeneration: Type.Optional(counter('metadata.generation this status reflects.')),
    conditions: Type.Optional(Conditions(STREAMBRIDGE_CONDITION_TYPES)),
    counters: Type.Optional(BridgeCounters),
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
