/**
 * DataRun: one run of a Capillaries script on the cluster. The nodes come from the script; the workers all run
 * the Plexus image; per-node progress is read from the run's workflow tables and summarised in status.
 */
import { Type, type Static } from '@sinclair/typebox';
import {
  ConfigMapKeySelector,
  Conditions,
  DateTime,
  EnvVar,
  ImagePullPolicy,
  LocalSecretReference,
  NodeSelector,
  ResourceRequirements,
  StringEnum,
  StringMap,
  Toleration,
  Volume,
  VolumeMount,
  type KubeSchemaOptions,
} from './kube.js';
import { KEYSPACE_MAX_LENGTH } from './keyspace.js';

export const DATARUN_KIND = 'DataRun';
export const DATARUN_PLURAL = 'dataruns';

/** Largest inline script or params text (the whole object must stay well under etcd's 1.5 MiB request limit). */
export const INLINE_TEXT_MAX = 512 * 1024;
export const URL_PATTERN = '^(file|s3|sftp|https?)://.+';

const sourceOptions = (what: 'script' | 'parameters'): KubeSchemaOptions => ({
  additionalProperties: false,
  description:
    `Where the ${what} come${what === 'script' ? 's' : ''} from: exactly one of configMapKeyRef, inline or url. ` +
    'The format (JSON or YAML) is chosen by the file suffix (.json, .yaml); inline text may be either.',
  'x-kubernetes-validations': [
    {
      rule: '(has(self.configMapKeyRef) ? 1 : 0) + (has(self.inline) ? 1 : 0) + (has(self.url) ? 1 : 0) == 1',
      message: `${what}: set exactly one of configMapKeyRef, inline or url`,
    },
  ],
});

const sourceFields = (what: string) => ({
  configMapKeyRef: Type.Optional(
    Type.Object(
      {
        name: ConfigMapKeySelector.properties.name,
        key: ConfigMapKeySelector.properties.key,
      },
      { additionalProperties: false, description: `A ConfigMap key holding the ${what} text.` },
    ),
  ),
  inline: Type.Optional(
    Type.String({
      description: `The ${what} text itself (JSON or YAML).`,
      minLength: 1,
      maxLength: INLINE_TEXT_MAX,
    }),
  ),
  url: Type.Optional(
    Type.String({
      description:
        `URL of the ${what} file: file:// (a path the workers mount), s3://bucket/key (credentials from ` +
        'the S3 connection Secret), sftp://user@host/abs/path (keys from the SFTP connection Secret), ' +
        'https:// or http://.',
      maxLength: 2048,
      pattern: URL_PATTERN,
    }),
  ),
});

export const ScriptSource = Type.Object(sourceFields('script'), sourceOptions('script'));
export type ScriptSource = Static<typeof ScriptSource>;
export const ParamsSource = Type.Object(sourceFields('parameters'), sourceOptions('parameters'));
export type ParamsSource = Static<typeof ParamsSource>;

export const DataRunWorkers = Type.Object(
  {
    replicas: Type.Optional(
      Type.Integer({
        description: 'Number of worker pods. 0 is allowed (no batch is processed until it is raised).',
        minimum: 0,
        maximum: 256,
        default: 1,
        format: 'int32',
      }),
    ),
    concurrency: Type.Optional(
      Type.Integer({
        description: 'Batches one worker processes at once (also its queue prefetch).',
        minimum: 1,
        maximum: 256,
        default: 4,
        format: 'int32',
      }),
    ),
    image: Type.Optional(
      Type.String({
        description: "Worker image; defaults to the controller's configured Plexus image.",
        minLength: 1,
        maxLength: 512,
      }),
    ),
    imagePullPolicy: Type.Optional(ImagePullPolicy),
    imagePullSecrets: Type.Optional(
      Type.Array(LocalSecretReference, {
        description: 'Secrets used to pull the image.',
        maxItems: 8,
        'x-kubernetes-list-type': 'atomic',
      } satisfies KubeSchemaOptions),
    ),
    resources: Type.Optional(ResourceRequirements),
    env: Type.Optional(
      Type.Array(EnvVar, {
        description: 'Extra environment variables of the worker container.',
        maxItems: 64,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      } satisfies KubeSchemaOptions),
    ),
    volumes: Type.Optional(
      Type.Array(Volume, {
        description: 'Volumes of the worker pods (e.g. the data directory that file:// URLs point into).',
        maxItems: 16,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      } satisfies KubeSchemaOptions),
    ),
    volumeMounts: Type.Optional(
      Type.Array(VolumeMount, {
        description: 'Where the volumes are mounted in the worker container.',
        maxItems: 16,
        'x-kubernetes-list-type': 'atomic',
      } satisfies KubeSchemaOptions),
    ),
    serviceAccountName: Type.Optional(
      Type.String({
        description: 'Service account of the worker pods.',
        minLength: 1,
        maxLength: 253,
        pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
      }),
    ),
    nodeSelector: Type.Optional(NodeSelector),
    tolerations: Type.Optional(
      Type.Array(Toleration, {
        description: 'Tolerations of the worker pods.',
        maxItems: 16,
        'x-kubernetes-list-type': 'atomic',
      } satisfies KubeSchemaOptions),
    ),
  },
  {
    additionalProperties: false,
    description: 'The worker pods that process batches.',
    default: {},
    'x-kubernetes-validations': [
      {
        rule: '!has(self.volumeMounts) || self.volumeMounts.all(m, has(self.volumes) && self.volumes.exists(v, v.name == m.name))',
        message: 'every volumeMounts[].name must name a volume in volumes',
        fieldPath: '.volumeMounts',
      },
    ],
  } satisfies KubeSchemaOptions,
);
export type DataRunWorkers = Static<typeof DataRunWorkers>;

const connection = (service: string, keys: string) =>
  Type.Object(
    { secretRef: LocalSecretReference },
    {
      additionalProperties: false,
      description: `${service} connection. The Secret holds ${keys}. Absent: the controller's default.`,
    },
  );

export const DataRunConnections = Type.Object(
  {
    cassandra: Type.Optional(
      connection(
        'Cassandra',
        'contactPoints (comma-separated host[:port]), localDataCenter, and optionally username, password, ' +
          'keyspaceReplication (CQL replication map)',
      ),
    ),
    rabbitmq: Type.Optional(connection('RabbitMQ', 'url (amqp://user:password@host:5672/vhost)')),
    s3: Type.Optional(
      connection(
        'S3',
        'accessKeyId, secretAccessKey, and optionally region, endpoint (S3-compatible servers), forcePathStyle',
      ),
    ),
    sftp: Type.Optional(
      Type.Object(
        { secretRef: LocalSecretReference },
        {
          additionalProperties: false,
          description:
            'Private keys for the sftp://user@host/path URLs of the script (inputs, outputs, criteria, code). ' +
            "Each key of the Secret is a user name of those URLs and holds that user's private key " +
            '(OpenSSH or PEM format, unencrypted); the optional key known_hosts holds an OpenSSH known_hosts ' +
            "file the servers' host keys must be in (without it any host key is accepted and logged). " +
            'Mounted read-only (mode 0400) into the worker pods. ' +
            "Absent: the controller's default (PLEXUS_SFTP_SECRET), else none.",
        },
      ),
    ),
  },
  {
    additionalProperties: false,
    description: "Connection Secrets; each one absent falls back to the controller's configured default.",
  },
);
export type DataRunConnections = Static<typeof DataRunConnections>;

export const CLEANUP_POLICIES = ['Keep', 'DropKeyspace'] as const;
export type CleanupPolicy = (typeof CLEANUP_POLICIES)[number];

export const DataRunSpec = Type.Object(
  {
    script: ScriptSource,
    params: Type.Optional(ParamsSource),
    paramOverrides: Type.Optional(
      StringMap(Type.String({ description: 'Value, typed by the template that uses it.', maxLength: 4096 }), {
        maxProperties: 64,
        description:
          'Parameter values that replace those of the params file (like --param name=value), e.g. dir_in.',
      }),
    ),
    keyspace: Type.Optional(
      Type.String({
        description:
          'Cassandra keyspace of the run set. Default: derived from namespace and name (see docs/api.md: ' +
          'lowercase, non-alphanumerics become "_", prefixed "plx_", hash-shortened to 48 characters).',
        minLength: 1,
        maxLength: KEYSPACE_MAX_LENGTH,
        pattern: '^[a-zA-Z][a-zA-Z0-9_]*$',
        'x-kubernetes-validations': [
          {
            rule: "!self.matches('^[sS][yY][sS][tT][eE][mM]')",
            message: 'keyspace must not start with "system"',
          },
        ],
      } satisfies KubeSchemaOptions),
    ),
    startNodes: Type.Array(Type.String({ description: 'Script node name.', minLength: 1, maxLength: 128 }), {
      description: 'Nodes the run starts from; every auto node downstream follows (Capillaries start_nodes).',
      minItems: 1,
      maxItems: 64,
      'x-kubernetes-list-type': 'set',
    } satisfies KubeSchemaOptions),
    workers: Type.Optional(DataRunWorkers),
    connections: Type.Optional(DataRunConnections),
    cleanupPolicy: Type.Optional(
      StringEnum(CLEANUP_POLICIES, {
        description: 'What deleting the DataRun does to its data: Keep the keyspace, or DropKeyspace.',
        default: 'Keep',
      }),
    ),
    suspend: Type.Optional(
      Type.Boolean({
        description: 'true stops scheduling new batches (running ones finish); false resumes.',
        default: false,
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Desired run. Only workers, cleanupPolicy and suspend may change after creation.',
    'x-kubernetes-validations': [
      { rule: 'self.script == oldSelf.script', message: 'script is immutable', fieldPath: '.script' },
      {
        rule: 'has(self.params) == has(oldSelf.params) && (!has(self.params) || self.params == oldSelf.params)',
        message: 'params is immutable',
        fieldPath: '.params',
      },
      {
        rule:
          'has(self.paramOverrides) == has(oldSelf.paramOverrides) && ' +
          '(!has(self.paramOverrides) || self.paramOverrides == oldSelf.paramOverrides)',
        message: 'paramOverrides is immutable',
        fieldPath: '.paramOverrides',
      },
      {
        rule: 'has(self.keyspace) == has(oldSelf.keyspace) && (!has(self.keyspace) || self.keyspace == oldSelf.keyspace)',
        message: 'keyspace is immutable',
        fieldPath: '.keyspace',
      },
      {
        rule: 'self.startNodes == oldSelf.startNodes',
        message: 'startNodes is immutable',
        fieldPath: '.startNodes',
      },
    ],
  } satisfies KubeSchemaOptions,
);
export type DataRunSpec = Static<typeof DataRunSpec>;

export const DATARUN_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Suspended'] as const;
export type DataRunPhase = (typeof DATARUN_PHASES)[number];
export const DATARUN_CONDITION_TYPES = [
  'Accepted',
  'Progressing',
  'Suspended',
  'Complete',
  'Failed',
] as const;
export type DataRunConditionType = (typeof DATARUN_CONDITION_TYPES)[number];
export const NODE_STATES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Stopped'] as const;
export type NodeState = (typeof NODE_STATES)[number];

/** Bounds of the status lists (status must stay far below etcd's request limit). */
export const MAX_NODE_STATUSES = 256;
export const MAX_OUTPUT_FILES = 256;
export const STATUS_MESSAGE_MAX = 1024;

const count = (description: string) => Type.Integer({ description, minimum: 0, format: 'int64' });

export const BatchCounts = Type.Object(
  {
    done: count('Batches finished successfully.'),
    failed: count('Batches failed for good.'),
    total: count('Batches expected.'),
  },
  { additionalProperties: false, description: 'Batch counts.' },
);
export type BatchCounts = Static<typeof BatchCounts>;

export const NodeStatus = Type.Object(
  {
    name: Type.String({ description: 'Script node name.', minLength: 1, maxLength: 128 }),
    state: StringEnum(NODE_STATES, { description: 'Pending, Running, Succeeded, Failed or Stopped.' }),
    batches: Type.Optional(BatchCounts),
    rowsWritten: Type.Optional(count('Rows the node wrote to its table or files.')),
    startedAt: Type.Optional(DateTime('When the first batch of the node started.')),
    finishedAt: Type.Optional(DateTime('When the node reached Succeeded, Failed or Stopped.')),
  },
  { additionalProperties: false, description: 'Progress of one script node in this run.' },
);
export type NodeStatus = Static<typeof NodeStatus>;

export const DataRunStatus = Type.Object(
  {
    phase: Type.Optional(
      StringEnum(DATARUN_PHASES, {
        description: 'Summary: Pending, Running, Succeeded, Failed or Suspended.',
      }),
    ),
    observedGeneration: Type.Optional(count('metadata.generation this status reflects.')),
    conditions: Type.Optional(Conditions(DATARUN_CONDITION_TYPES)),
    runId: Type.Optional(
      Type.Integer({
        description: 'Run id in the keyspace (wf_run_properties).',
        minimum: 0,
        format: 'int64',
      }),
    ),
    keyspace: Type.Optional(
      Type.String({
        description: 'Keyspace the run uses (spec.keyspace or the derived default).',
        maxLength: 48,
      }),
    ),
    progress: Type.Optional(
      Type.String({
        description: 'Nodes finished / nodes affected, e.g. "3/7".',
        maxLength: 24,
        pattern: '^[0-9]+/[0-9]+$',
      }),
    ),
    batchProgress: Type.Optional(
      Type.String({
        description: 'Batches done / total, e.g. "80/120".',
        maxLength: 48,
        pattern: '^[0-9]+/[0-9]+$',
      }),
    ),
    batches: Type.Optional(BatchCounts),
    nodes: Type.Optional(
      Type.Array(NodeStatus, {
        description: `Per-node progress (at most ${MAX_NODE_STATUSES} nodes).`,
        maxItems: MAX_NODE_STATUSES,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      } satisfies KubeSchemaOptions),
    ),
    outputFiles: Type.Optional(
      Type.Array(Type.String({ description: 'URL of a file the run wrote.', maxLength: 2048 }), {
        description: `Files the run wrote (the first ${MAX_OUTPUT_FILES}; outputFilesTotal has the count).`,
        maxItems: MAX_OUTPUT_FILES,
        'x-kubernetes-list-type': 'atomic',
      } satisfies KubeSchemaOptions),
    ),
    outputFilesTotal: Type.Optional(count('Number of files the run wrote (outputFiles may list fewer).')),
    startTime: Type.Optional(DateTime('When the run started.')),
    completionTime: Type.Optional(DateTime('When the run reached Succeeded or Failed.')),
    message: Type.Optional(
      Type.String({
        description: `Last notable event or error, truncated to ${STATUS_MESSAGE_MAX} characters.`,
        maxLength: STATUS_MESSAGE_MAX,
      }),
    ),
  },
  { additionalProperties: false, description: 'Observed state, written by the controller only.' },
);
export type DataRunStatus = Static<typeof DataRunStatus>;
