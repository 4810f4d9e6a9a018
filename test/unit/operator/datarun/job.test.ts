import type { DataRun } from '../../../../src/api/index.js';
import {
  buildWorkerJob,
  formatSuffix,
  jobFailed,
  workerJobName,
  LABEL_ATTEMPT,
  LABEL_DATARUN,
  LABEL_RUN_ID,
  SFTP_KEYS_PATH,
  SFTP_KEYS_VOLUME,
  WORKER_FS_GROUP,
} from '../../../../src/operator/datarun/index.js';

function dataRun(workers: DataRun['spec']['workers'] = {}): DataRun {
  return {
    apiVersion: 'plexus.dev/v1alpha1',
    kind: 'DataRun',
    metadata: { name: 'orders', namespace: 'data', uid: 'uid-1', generation: 1 },
    spec: { script: { url: 'file:///data/script.json' }, startNodes: ['read'], workers },
  };
}

describe('buildWorkerJob', () => {
  it('runs plexus worker with the keyspace, connection env, owner reference and restricted securityContext', () => {
    const job = buildWorkerJob({
      run: dataRun({ replicas: 3, concurrency: 8 }),
      keyspace: 'plx_data_orders',
      runId: 2,
      attempt: 1,
      image: 'plexus:1',
      connectionEnv: [
        { name: 'PLEXUS_CASSANDRA_CONTACT_POINTS', value: 'cass:9042' },
        { name: 'PLEXUS_RABBITMQ_URL', valueFrom: { secretKeyRef: { name: 'mq', key: 'url' } } },
      ],
      snapshot: { configMap: 'orders-run-files', mountPath: '/etc/plexus/run' },
    });
    expect(job.metadata.name).toBe('orders-r2-a1');
    expect(job.metadata.labels).toMatchObject({
      [LABEL_DATARUN]: 'orders',
      [LABEL_RUN_ID]: '2',
      [LABEL_ATTEMPT]: '1',
    });
    expect(job.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'plexus.dev/v1alpha1',
        kind: 'DataRun',
        name: 'orders',
        uid: 'uid-1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(job.spec?.parallelism).toBe(3);
    const pod = job.spec!.template.spec;
    const c = pod.containers[0]!;
    expect(c.image).toBe('plexus:1');
    expect(c.command).toEqual(['plexus']);
    expect(c.args).toEqual(['worker', '--keyspace', 'plx_data_orders', '--concurrency', '8']);
    expect(c.env.map((e) => e.name)).toEqual([
      'PLEXUS_CASSANDRA_CONTACT_POINTS',
      'PLEXUS_RABBITMQ_URL',
      'PLEXUS_LOG_FORMAT',
      'PLEXUS_METRICS_PORT',
      'POD_NAME',
    ]);
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.volumes).toEqual([{ name: 'plexus-run-files', configMap: { name: 'orders-run-files' } }]);
    expect(c.volumeMounts).toEqual([
      { name: 'plexus-run-files', mountPath: '/etc/plexus/run', readOnly: true },
    ]);
  });

  it('takes image, resources, env, volumes, service account, node selector and tolerations from the spec', () => {
    const job = buildWorkerJob({
      run: dataRun({
        image: 'custom:2',
        imagePullPolicy: 'Always',
        resources: { limits: { memory: '1Gi' } },
        env: [{ name: 'PLEXUS_RABBITMQ_URL', value: 'amqp://override' }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'pvc' } }],
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
        serviceAccountName: 'runner',
        nodeSelector: { pool: 'batch' },
        tolerations: [{ key: 'k', operator: 'Exists' }],
        imagePullSecrets: [{ name: 'pull' }],
      }),
      keyspace: 'ks',
      runId: 1,
      attempt: 3,
      image: 'default:1',
      connectionEnv: [{ name: 'PLEXUS_RABBITMQ_URL', value: 'amqp://default' }],
    });
    const pod = job.spec!.template.spec;
    const c = pod.containers[0]!;
    expect(c.image).toBe('custom:2');
    expect(c.imagePullPolicy).toBe('Always');
    expect(c.resources).toEqual({ limits: { memory: '1Gi' } });
    // the spec's variable replaces the connection default
    expect(c.env.filter((e) => e.name === 'PLEXUS_RABBITMQ_URL')).toEqual([
      { name: 'PLEXUS_RABBITMQ_URL', value: 'amqp://override' },
    ]);
    expect(pod.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'pvc' } }]);
    expect(c.volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }]);
    expect(pod.serviceAccountName).toBe('runner');
    expect(pod.nodeSelector).toEqual({ pool: 'batch' });
    expect(pod.tolerations).toEqual([{ key: 'k', operator: 'Exists' }]);
    expect(pod.imagePullSecrets).toEqual([{ name: 'pull' }]);
    expect(job.spec?.parallelism).toBe(1);
    expect(job.metadata.name).toBe('orders-r1-a3');
  });

  it('mounts the SFTP keys Secret read-only (0400, fsGroup of the image) and points the workers at its files', () => {
    const job = buildWorkerJob({
      run: dataRun({ env: [{ name: 'PLEXUS_SFTP_KNOWN_HOSTS', value: '/custom/known_hosts' }] }),
      keyspace: 'ks',
      runId: 1,
      attempt: 1,
      image: 'plexus:1',
      connectionEnv: [],
      sftpKeys: { secretName: 'sftp-keys', users: ['etl', 'reports.bot'], knownHosts: true },
      snapshot: { configMap: 'orders-run-files', mountPath: '/etc/plexus/run' },
    });
    const pod = job.spec!.template.spec;
    const c = pod.containers[0]!;
    expect(pod.volumes).toContainEqual({
      name: SFTP_KEYS_VOLUME,
      secret: { secretName: 'sftp-keys', defaultMode: 0o400 },
    });
    expect(c.volumeMounts).toContainEqual({
      name: SFTP_KEYS_VOLUME,
      mountPath: SFTP_KEYS_PATH,
      readOnly: true,
    });
    expect(SFTP_KEYS_PATH).toBe('/var/run/plexus/sftp');
    const keys = c.env.find((e) => e.name === 'PLEXUS_SFTP_PRIVATE_KEYS');
    expect(JSON.parse(keys?.value ?? '')).toEqual({
      etl: '/var/run/plexus/sftp/etl',
      'reports.bot': '/var/run/plexus/sftp/reports.bot',
    });
    // the spec's own value wins over the mounted known_hosts
    expect(c.env.filter((e) => e.name === 'PLEXUS_SFTP_KNOWN_HOSTS')).toEqual([
      { name: 'PLEXUS_SFTP_KNOWN_HOSTS', value: '/custom/known_hosts' },
    ]);
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
      fsGroup: WORKER_FS_GROUP,
      fsGroupChangePolicy: 'OnRootMismatch',
    });

    const withoutKnownHosts = buildWorkerJob({
      run: dataRun(),
      keyspace: 'ks',
      runId: 1,
      attempt: 1,
      image: 'plexus:1',
      connectionEnv: [],
      sftpKeys: { secretName: 'sftp-keys', users: ['etl'], knownHosts: false },
    });
    const env = withoutKnownHosts.spec!.template.spec.containers[0]!.env;
    expect(env.find((e) => e.name === 'PLEXUS_SFTP_KNOWN_HOSTS')).toBeUndefined();
    expect(env.find((e) => e.name === 'PLEXUS_SFTP_PRIVATE_KEYS')?.value).toBe(
      '{"etl":"/var/run/plexus/sftp/etl"}',
    );

    // no SFTP keys: no volume, no variables, no fsGroup
    const plain = buildWorkerJob({
      run: dataRun(),
      keyspace: 'ks',
      runId: 1,
      attempt: 1,
      image: 'plexus:1',
      connectionEnv: [],
    });
    const plainPod = plain.spec!.template.spec;
    expect(plainPod.volumes).toBeUndefined();
    expect(plainPod.securityContext).not.toHaveProperty('fsGroup');
    expect(plainPod.containers[0]!.env.some((e) => e.name.startsWith('PLEXUS_SFTP_'))).toBe(false);
  });

  it('keeps Job names within 63 characters and distinct', () => {
    const long = dataRun();
    long.metadata.name = 'x'.repeat(200);
    const a = workerJobName(long, 1, 1);
    const b = workerJobName(long, 1, 2);
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
  });

  it('recognises a failed Job', () => {
    expect(
      jobFailed({ metadata: { name: 'j' }, status: { conditions: [{ type: 'Complete', status: 'True' }] } }),
    ).toBeUndefined();
    expect(
      jobFailed({
        metadata: { name: 'j' },
        status: { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }] },
      })?.reason,
    ).toBe('BackoffLimitExceeded');
  });
});

describe('formatSuffix', () => {
  it('keeps the key suffix, else guesses from the text', () => {
    expect(formatSuffix('script.json', 'a: 1')).toBe('.json');
    expect(formatSuffix('params.yml', '{}')).toBe('.yaml');
    expect(formatSuffix('script', '  {"nodes": {}}')).toBe('.json');
    expect(formatSuffix('', 'nodes: {}')).toBe('.yaml');
  });
});
