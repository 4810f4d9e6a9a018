import {
  defaultKeyspace,
  parseDataRun,
  validateDataRun,
  validateStreamBridge,
  type FieldError,
} from '../../../src/api/index.js';
import { AggregateUserError } from '../../../src/errors/index.js';

function dataRun(
  spec: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: 'plexus.dev/v1alpha1',
    kind: 'DataRun',
    metadata: { name: 'lookup-quick', namespace: 'data' },
    spec: {
      script: { configMapKeyRef: { name: 'lookup', key: 'script_quick.yaml' } },
      startNodes: ['read_orders'],
      ...spec,
    },
    ...extra,
  };
}

function bridge(spec: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'plexus.dev/v1alpha1',
    kind: 'StreamBridge',
    metadata: { name: 'orders' },
    spec: {
      source: { type: 'rabbitmq', rabbitmq: { queue: 'orders' }, credentialsSecretRef: { name: 'rmq' } },
      sink: { type: 's3', s3: { bucket: 'archive', folder: 'orders' }, credentialsSecretRef: { name: 's3' } },
      ...spec,
    },
  };
}

function errorsOf(result: { valid: boolean; errors?: FieldError[] }): FieldError[] {
  expect(result.valid).toBe(false);
  return result.errors ?? [];
}

describe('validateDataRun', () => {
  it.each([
    'file:///data/s.yaml',
    's3://cfg/s.yaml',
    'sftp://etl@files.example.org/cfg/s.yaml',
    'https://x/s.yaml',
  ])('accepts a script URL %s', (url) => {
    expect(validateDataRun(dataRun({ script: { url } })).valid).toBe(true);
  });

  it('accepts a full, realistic DataRun', () => {
    const r = validateDataRun(
      dataRun({
        params: { url: 's3://cfg/lookup/script_params_quick_fs_one.yaml' },
        paramOverrides: { dir_in: '/data/in', dir_out: '/data/out' },
        keyspace: 'lookup_quicktest',
        startNodes: ['read_orders', 'read_order_items'],
        workers: {
          replicas: 4,
          concurrency: 8,
          image: 'ghcr.io/plexus/plexus:0.1.0',
          imagePullPolicy: 'IfNotPresent',
          resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: 2, memory: '4Gi' } },
          env: [
            { name: 'PLEXUS_LOG_LEVEL', value: 'debug' },
            { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'capi-data' } }],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
          serviceAccountName: 'plexus-worker',
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' }],
        },
        connections: { cassandra: { secretRef: { name: 'cass' } }, rabbitmq: { secretRef: { name: 'rmq' } } },
        cleanupPolicy: 'DropKeyspace',
        suspend: false,
      }),
    );
    expect(r).toMatchObject({ valid: true });
  });

  it('accepts a status as the controller writes it', () => {
    const r = validateDataRun(
      dataRun(
        {},
        {
          status: {
            phase: 'Running',
            observedGeneration: 2,
            conditions: [
              {
                type: 'Progressing',
                status: 'True',
                reason: 'BatchesRunning',
                message: '3 of 7 nodes done',
                lastTransitionTime: '2026-11-25T07:00:00Z',
                observedGeneration: 2,
              },
            ],
            runId: 1,
            keyspace: 'plx_data_lookup_quick',
            progress: '3/7',
            batchProgress: '80/120',
            batches: { done: 80, failed: 0, total: 120 },
            nodes: [
              {
                name: 'read_orders',
                state: 'Succeeded',
                batches: { done: 10, failed: 0, total: 10 },
                rowsWritten: 99441,
              },
            ],
            outputFiles: ['file:///data/out/orders.csv'],
            startTime: '2026-11-25T07:00:00.123Z',
          },
        },
      ),
    );
    expect(r).toMatchObject({ valid: true });
  });

  it('applies defaults on a copy when asked', () => {
    const input = dataRun({ workers: {} });
    const run = parseDataRun(input);
    expect(run.spec.cleanupPolicy).toBe('Keep');
    expect(run.spec.suspend).toBe(false);
    expect(run.spec.workers).toEqual({ replicas: 1, concurrency: 4 });
    expect((input.spec as Record<string, unknown>).cleanupPolicy).toBeUndefined();
  });

  it('fills in the workers block when it is absent', () => {
    expect(parseDataRun(dataRun({})).spec.workers).toEqual({ replicas: 1, concurrency: 4 });
  });

  it.each([
    ['no script source', { script: {} }, 'spec.script', 'exactly one of configMapKeyRef, inline or url'],
    [
      'two script sources',
      { script: { inline: 'nodes: {}', url: 'https://example.com/s.yaml' } },
      'spec.script',
      'exactly one',
    ],
    [
      'unsupported URL scheme',
      { script: { url: 'ftp://host/s.yaml' } },
      'spec.script.url',
      'must match the pattern',
    ],
    ['empty startNodes', { startNodes: [] }, 'spec.startNodes', 'must NOT have fewer than 1 items'],
    ['too many workers', { workers: { replicas: 1000 } }, 'spec.workers.replicas', 'must be <= 256'],
    [
      'bad cleanup policy',
      { cleanupPolicy: 'Delete' },
      'spec.cleanupPolicy',
      'must be one of "Keep", "DropKeyspace"',
    ],
    ['system keyspace', { keyspace: 'system_auth' }, 'spec.keyspace', 'must not start with "system"'],
    ['keyspace with a dash', { keyspace: 'my-ks' }, 'spec.keyspace', 'must match the pattern'],
    [
      'keyspace too long',
      { keyspace: 'k'.repeat(49) },
      'spec.keyspace',
      'must NOT have more than 48 characters',
    ],
    ['unknown field', { worker: { replicas: 2 } }, 'spec.worker', 'is not a known field'],
    [
      'bad quantity',
      { workers: { resources: { limits: { memory: 'lots' } } } },
      'spec.workers.resources.limits.memory',
      'must match the pattern',
    ],
    [
      'mount without volume',
      { workers: { volumeMounts: [{ name: 'data', mountPath: '/data' }] } },
      'spec.workers.volumeMounts',
      'must name a volume',
    ],
    [
      'volume with two sources',
      { workers: { volumes: [{ name: 'd', emptyDir: {}, hostPath: { path: '/x' } }] } },
      'spec.workers.volumes[0]',
      'exactly one source',
    ],
    [
      'env with value and valueFrom',
      { workers: { env: [{ name: 'A', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] } },
      'spec.workers.env[0]',
      'not both',
    ],
    [
      'missing secret name',
      { connections: { s3: { secretRef: {} } } },
      'spec.connections.s3.secretRef.name',
      'is required',
    ],
  ])('rejects %s, naming the field', (_what, spec, path, message) => {
    const errors = errorsOf(validateDataRun(dataRun(spec)));
    expect(errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ path, message: expect.stringContaining(message) })]),
    );
  });

  it('rejects a missing spec and a wrong kind together', () => {
    const errors = errorsOf(
      validateDataRun({ apiVersion: 'plexus.dev/v1alpha1', kind: 'Job', metadata: { name: 'x' } }),
    );
    expect(errors.map((e) => e.path).sort()).toEqual(['kind', 'spec']);
  });

  it('rejects bad status values', () => {
    const errors = errorsOf(
      validateDataRun(
        dataRun({}, { status: { phase: 'Done', progress: 'three', nodes: [{ name: 'a', state: 'Weird' }] } }),
      ),
    );
    expect(errors.map((e) => e.path)).toEqual(
      expect.arrayContaining(['status.phase', 'status.progress', 'status.nodes[0].state']),
    );
  });

  it('enforces immutable fields on update (transition rules) and allows mutable ones', () => {
    const old = dataRun({ keyspace: 'ks_one' });
    const changed = dataRun({ keyspace: 'ks_two', startNodes: ['other'] });
    const errors = errorsOf(validateDataRun(changed, { old }));
    expect(errors).toEqual(
      expect.arrayContaining([
        { path: 'spec.keyspace', message: 'keyspace is immutable' },
        { path: 'spec.startNodes', message: 'startNodes is immutable' },
      ]),
    );
    expect(
      validateDataRun(dataRun({ keyspace: 'ks_one', suspend: true, workers: { replicas: 9 } }), { old }),
    ).toMatchObject({
      valid: true,
    });
  });

  it('parseDataRun throws one AggregateUserError listing every problem with its origin', () => {
    let caught: unknown;
    try {
      parseDataRun(dataRun({ script: {}, workers: { replicas: -1 } }), 'examples/bad.yaml');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AggregateUserError);
    const e = caught as AggregateUserError;
    expect(e.code).toBe('INVALID_DATARUN');
    expect(e.problems).toEqual(
      expect.arrayContaining(['examples/bad.yaml: spec.workers.replicas: must be >= 0']),
    );
  });
});

describe('validateStreamBridge', () => {
  it('accepts a RabbitMQ → S3 bridge with a buffer', () => {
    const r = validateStreamBridge(
      bridge({
        buffer: {
          path: '/buffer',
          commitFileSize: '64Mi',
          commitDuration: '5m',
          uploadEvery: '10s',
          size: '20Gi',
          storageClassName: 'fast',
        },
        replicas: 3,
        resources: { requests: { cpu: '250m' } },
      }),
    );
    expect(r).toMatchObject({ valid: true });
  });

  it('accepts every sink type with its block', () => {
    const sinks = [
      { type: 'rabbitmq', rabbitmq: { exchange: 'events', routingKey: 'k' } },
      { type: 'kinesis', kinesis: { stream: 'out', partitionKey: 'field:id' } },
      { type: 'kafka', kafka: { brokers: ['127.0.0.1:9092'], topic: 'out', acks: -1 } },
      { type: 'websocket', websocket: { url: 'ws://127.0.0.1:8080/in' } },
      { type: 'stdio', stdio: { framing: 'json' } },
    ];
    for (const sink of sinks) {
      expect(
        validateStreamBridge(bridge({ sink, delivery: { maxInFlight: 100 }, backoff: { jitter: 'equal' } })),
      ).toMatchObject({
        valid: true,
      });
    }
  });

  it('accepts every source type with its block', () => {
    const sources = [
      { type: 'kinesis', kinesis: { stream: 'events', region: 'eu-west-1', iteratorType: 'LATEST' } },
      { type: 'websocket', websocket: { url: 'wss://feed.example.com/x', reconnectEvery: '1h' } },
      { type: 'stdio', stdio: { exitOnEof: true } },
      { type: 'kafka', kafka: { brokers: ['127.0.0.1:9092'], topic: 't' } },
    ];
    for (const source of sources) {
      expect(validateStreamBridge(bridge({ source }))).toMatchObject({ valid: true });
    }
  });

  it.each([
    [
      'type without its block',
      { source: { type: 'kinesis', rabbitmq: { queue: 'q' } } },
      'spec.source',
      'source.kinesis must be set exactly when source.type is kinesis',
    ],
    [
      's3 source (the bridge has none)',
      { source: { type: 's3', s3: { bucket: 'b' } } },
      'spec.source.type',
      'must be one of',
    ],
    [
      'credentials in the spec',
      { source: { type: 'rabbitmq', rabbitmq: { queue: 'q', url: 'amqp://u:p@h' } } },
      'spec.source.rabbitmq.url',
      'is not a known field',
    ],
    [
      'two replicas on websocket',
      { source: { type: 'websocket', websocket: { url: 'ws://x' } }, replicas: 2 },
      'spec.replicas',
      'at most 1 replica',
    ],
    [
      'bad duration',
      { buffer: { commitDuration: 'five minutes' } },
      'spec.buffer.commitDuration',
      'must match the pattern',
    ],
    ['relative buffer path', { buffer: { path: 'buf' } }, 'spec.buffer.path', 'must match the pattern'],
    [
      'kafka without brokers',
      { source: { type: 'kafka', kafka: { topic: 't' } } },
      'spec.source.kafka.brokers',
      'is required',
    ],
  ])('rejects %s, naming the field', (_what, spec, path, message) => {
    const errors = errorsOf(validateStreamBridge(bridge(spec)));
    expect(errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ path, message: expect.stringContaining(message) })]),
    );
  });

  it('keeps source.type immutable on update', () => {
    const old = bridge({});
    const next = bridge({ source: { type: 'kafka', kafka: { brokers: ['b:9092'], topic: 't' } } });
    expect(errorsOf(validateStreamBridge(next, { old }))).toEqual([
      { path: 'spec.source.type', message: 'source.type is immutable (checkpoints are source-specific)' },
    ]);
  });
});

describe('defaultKeyspace', () => {
  it('derives a valid keyspace from namespace and name', () => {
    expect(defaultKeyspace('data', 'lookup-quick')).toBe('plx_data_lookup_quick');
    expect(defaultKeyspace('Team.A', 'Run.1')).toBe('plx_team_a_run_1');
  });
  it('shortens long names with a stable hash, keeping distinct names distinct', () => {
    const a = defaultKeyspace('analytics-production', 'fannie-mae-monthly-aggregation-2026-11');
    const b = defaultKeyspace('analytics-production', 'fannie-mae-monthly-aggregation-2026-12');
    expect(a).toHaveLength(48);
    expect(a).toMatch(/^plx_[a-z0-9_]+_[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(defaultKeyspace('analytics-production', 'fannie-mae-monthly-aggregation-2026-11')).toBe(a);
  });
  it('always passes the keyspace rules of the schema', () => {
    for (const [ns, name] of [
      ['a', 'b'],
      ['x'.repeat(63), 'y'.repeat(253)],
      ['default', 'system'],
    ]) {
      const keyspace = defaultKeyspace(ns!, name!);
      expect(validateDataRun(dataRun({ keyspace }))).toMatchObject({ valid: true });
    }
  });
});
