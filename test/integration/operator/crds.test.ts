import { jest } from '@jest/globals';
import {
  DATARUN_RESOURCE,
  STREAMBRIDGE_RESOURCE,
  KubeApiError,
  type KubeClient,
} from '../../../src/operator/index.js';
import {
  validateDataRun,
  validateStreamBridge,
  type DataRun,
  type StreamBridge,
} from '../../../src/api/index.js';
import { rawGet, setUpKube, type KubeEnv } from './kube-env.js';

jest.setTimeout(120_000);

let env: KubeEnv;
beforeAll(async () => {
  env = await setUpKube('it-crds');
});

function dataRun(name: string, spec: Record<string, unknown> = {}): DataRun {
  return {
    apiVersion: 'plexus.dev/v1alpha1',
    kind: 'DataRun',
    metadata: { name, namespace: env.namespace },
    spec: {
      script: { configMapKeyRef: { name: 'lookup', key: 'script.yaml' } },
      startNodes: ['read_orders'],
      ...spec,
    },
  } as DataRun;
}

async function rejection(client: KubeClient, obj: DataRun | StreamBridge): Promise<KubeApiError> {
  const rt = obj.kind === 'DataRun' ? DATARUN_RESOURCE : STREAMBRIDGE_RESOURCE;
  try {
    await client.create(rt, env.namespace, obj);
  } catch (err) {
    if (err instanceof KubeApiError) return err;
    throw err;
  }
  throw new Error(`the API server accepted ${obj.kind} ${obj.metadata.name}`);
}

describe('CRDs on a real kube-apiserver', () => {
  it('accepts a DataRun and applies the schema defaults', async () => {
    const created = await env.client.create<DataRun>(
      DATARUN_RESOURCE,
      env.namespace,
      dataRun('good', { workers: {} }),
    );
    expect(created.spec).toMatchObject({
      cleanupPolicy: 'Keep',
      suspend: false,
      workers: { replicas: 1, concurrency: 4 },
    });
    expect(created.metadata.generation).toBe(1);
  });

  it('fills in the workers block of a DataRun that has none', async () => {
    const created = await env.client.create<DataRun>(DATARUN_RESOURCE, env.namespace, dataRun('no-workers'));
    expect(created.spec.workers).toEqual({ replicas: 1, concurrency: 4 });
  });

  it.each([
    ['schema: replicas above the maximum', { workers: { replicas: 1000 } }, 'spec.workers.replicas'],
    ['schema: unknown cleanup policy', { cleanupPolicy: 'Delete' }, 'spec.cleanupPolicy'],
    [
      'CEL: two script sources',
      { script: { inline: 'x', url: 'https://e.com/s.yaml' } },
      'exactly one of configMapKeyRef, inline or url',
    ],
    ['CEL: system keyspace', { keyspace: 'system_x' }, 'keyspace must not start with "system"'],
    [
      'CEL: mount without a volume',
      { workers: { volumeMounts: [{ name: 'd', mountPath: '/d' }] } },
      'must name a volume',
    ],
  ])('rejects an invalid DataRun (%s), as validateDataRun does', async (_what, spec, expected) => {
    const obj = dataRun(`bad-${Math.random().toString(16).slice(2, 8)}`, spec);
    const err = await rejection(env.client, obj);
    expect(err.status).toBe(422);
    expect(err.reason).toBe('Invalid');
    expect(err.message).toContain(expected);
    const local = validateDataRun(obj);
    expect(local.valid).toBe(false);
    if (!local.valid) {
      expect(
        local.errors.some((e) => `${e.path} ${e.message}`.includes(expected) || expected.includes(e.path)),
      ).toBe(true);
    }
  });

  it('enforces immutable fields with transition rules, and lets mutable ones change', async () => {
    await env.client.create(DATARUN_RESOURCE, env.namespace, dataRun('immutable', { keyspace: 'ks_one' }));
    const err = await env.client
      .mergePatch(DATARUN_RESOURCE, env.namespace, 'immutable', {
        spec: { startNodes: ['other'], keyspace: 'ks_two' },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).message).toContain('startNodes is immutable');
    expect((err as KubeApiError).message).toContain('keyspace is immutable');
    const patched = await env.client.mergePatch<DataRun>(DATARUN_RESOURCE, env.namespace, 'immutable', {
      spec: { suspend: true, workers: { replicas: 3 } },
    });
    expect(patched.spec.suspend).toBe(true);
    expect(patched.metadata.generation).toBe(2);
  });

  it('rejects a StreamBridge whose type and settings block disagree (CEL)', async () => {
    const bridge: StreamBridge = {
      apiVersion: 'plexus.dev/v1alpha1',
      kind: 'StreamBridge',
      metadata: { name: 'mismatch', namespace: env.namespace },
      spec: {
        source: { type: 'kinesis', rabbitmq: { queue: 'q' } },
        sink: { type: 's3', s3: { bucket: 'bucket' } },
      },
    } as StreamBridge;
    const err = await rejection(env.client, bridge);
    expect(err.message).toContain('source.kinesis must be set exactly when source.type is kinesis');
    expect(validateStreamBridge(bridge).valid).toBe(false);
  });

  it('serves the DataRun printer columns (Table form) from the status', async () => {
    await env.client.create(DATARUN_RESOURCE, env.namespace, dataRun('table'));
    await env.client.mergePatchStatus(DATARUN_RESOURCE, env.namespace, 'table', {
      status: { phase: 'Running', progress: '3/7', batchProgress: '80/120', keyspace: 'plx_x_table' },
    });
    const table = (await rawGet(
      env.kc,
      `/apis/plexus.dev/v1alpha1/namespaces/${env.namespace}/dataruns/table`,
      'application/json;as=Table;v=v1;g=meta.k8s.io',
    )) as { kind: string; columnDefinitions: Array<{ name: string }>; rows: Array<{ cells: unknown[] }> };
    expect(table.kind).toBe('Table');
    const names = table.columnDefinitions.map((c) => c.name);
    expect(names.slice(0, 5)).toEqual(['Name', 'Phase', 'Progress', 'Batches', 'Age']);
    const cells = table.rows[0]?.cells ?? [];
    expect(cells.slice(0, 4)).toEqual(['table', 'Running', '3/7', '80/120']);
    expect(cells[names.indexOf('Keyspace')]).toBe('plx_x_table');
  });

  it('serves the StreamBridge printer columns', async () => {
    const bridge = {
      apiVersion: 'plexus.dev/v1alpha1',
      kind: 'StreamBridge',
      metadata: { name: 'orders', namespace: env.namespace },
      spec: {
        source: {
          type: 'rabbitmq',
          rabbitmq: { queue: 'orders', prefetch: 100 },
          credentialsSecretRef: { name: 'rmq' },
        },
        sink: { type: 's3', s3: { bucket: 'archive', folder: 'orders', gzip: true, partSize: '8Mi' } },
        buffer: { commitFileSize: '64Mi', commitDuration: 5, uploadEvery: '10s', size: '20Gi' },
        delivery: { maxInFlight: 500, maxInFlightBytes: 67108864, linger: '5ms' },
        backoff: { initial: '1s', max: '30s', multiplier: 1.5, jitter: 'full' },
      },
    } as StreamBridge;
    expect(validateStreamBridge(bridge)).toMatchObject({ valid: true });
    const created = await env.client.create<StreamBridge>(STREAMBRIDGE_RESOURCE, env.namespace, bridge);
    expect(created.spec.replicas).toBe(1);
    expect(created.spec.buffer).toMatchObject({ path: '/var/lib/plexus/buffer', commitDuration: 5 });
    await env.client.mergePatchStatus(STREAMBRIDGE_RESOURCE, env.namespace, 'orders', {
      status: {
        phase: 'Running',
        counters: {
          received: 10,
          delivered: 9,
          bufferedBytes: 0,
          bufferedFiles: 0,
          retries: 0,
          reconnects: 0,
        },
      },
    });
    const table = (await rawGet(
      env.kc,
      `/apis/plexus.dev/v1alpha1/namespaces/${env.namespace}/streambridges`,
      'application/json;as=Table;v=v1;g=meta.k8s.io',
    )) as { columnDefinitions: Array<{ name: string }>; rows: Array<{ cells: unknown[] }> };
    expect(table.columnDefinitions.map((c) => c.name).slice(0, 6)).toEqual([
      'Name',
      'Phase',
      'Source',
      'Sink',
      'Delivered',
      'Age',
    ]);
    expect(table.rows[0]?.cells.slice(0, 5)).toEqual(['orders', 'Running', 'rabbitmq', 's3', 9]);
  });

  it('lists both kinds under the plexus category and the short names', async () => {
    const resources = (await rawGet(env.kc, '/apis/plexus.dev/v1alpha1', 'application/json')) as {
      resources: Array<{ name: string; shortNames?: string[]; categories?: string[] }>;
    };
    const byName = new Map(resources.resources.map((r) => [r.name, r]));
    expect(byName.get('dataruns')).toMatchObject({ shortNames: ['dr'], categories: ['plexus'] });
    expect(byName.get('streambridges')).toMatchObject({ shortNames: ['sb'], categories: ['plexus'] });
    expect(byName.has('dataruns/status')).toBe(true);
  });
});
