/**
 * The worker Job of a DataRun (pure): `parallelism = workers.replicas` pods running
 * `plexus worker --keyspace <ks>`, connection settings in the environment, the script snapshot mounted,
 * image/resources/env/volumes/service account/node selector/tolerations from the spec, the SFTP keys Secret
 * mounted read-only when the spec names one, and a securityContext
 * that meets the `restricted` Pod Security Standard. One Job per (run id, attempt): a lost attempt gets a
 * fresh Job with the next attempt number, and a retried create meets its own earlier Job (409).
 */
import type { DataRun, EnvVar } from '../../api/index.js';
import { childName, controllerReference } from '../finalizers.js';
import type { KubeObject } from '../kube-client.js';

export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_DATARUN = 'plexus.dev/datarun';
export const LABEL_RUN_ID = 'plexus.dev/run-id';
export const LABEL_ATTEMPT = 'plexus.dev/attempt';
/** Name of the snapshot volume in the worker pods. */
export const SNAPSHOT_VOLUME = 'plexus-run-files';
/** Port of the workers' /metrics, /healthz, /readyz. */
export const METRICS_PORT = 9090;
/** Name of the volume of the SFTP keys Secret in the worker pods, and where it is mounted. */
export const SFTP_KEYS_VOLUME = 'plexus-sftp-keys';
export const SFTP_KEYS_PATH = '/var/run/plexus/sftp';
/** The key of the SFTP keys Secret that holds a known_hosts file (every other key is a user name). */
export const SFTP_KNOWN_HOSTS_KEY = 'known_hosts';
/**
 * The group of the Plexus image's user (USER 1000:1000). With the SFTP keys mounted the pod gets it as
 * fsGroup: the key files (mode 0400, owned by root) are then also readable by that group (0440).
 */
export const WORKER_FS_GROUP = 1000;

/** The SFTP keys Secret of a DataRun (resolveSftpKeys). */
export interface SftpKeys {
  readonly secretName: string;
  /** The user names: every key of the Secret but known_hosts. */
  readonly users: readonly string[];
  /** Whether the Secret has a known_hosts key. */
  readonly knownHosts: boolean;
}

export interface JobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface Job extends KubeObject {
  spec?: {
    parallelism?: number;
    suspend?: boolean;
    backoffLimit?: number;
    template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
    [k: string]: unknown;
  };
  status?: {
    active?: number;
    ready?: number;
    succeeded?: number;
    failed?: number;
    conditions?: JobCondition[];
  };
}

export interface Container {
  name: string;
  image: string;
  command: string[];
  args: string[];
  env: EnvVar[];
  [k: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  volumes?: Record<string, unknown>[];
  [k: string]: unknown;
}

export interface WorkerJobInput {
  run: DataRun;
  keyspace: string;
  runId: number;
  attempt: number;
  image: string;
  /** Connection environment (resolveConnections). */
  connectionEnv: readonly EnvVar[];
  /** The SFTP keys Secret, mounted into the pods (resolveSftpKeys). */
  sftpKeys?: SftpKeys;
  /** Snapshot ConfigMap of the script/params texts, when there is one, and where it is mounted. */
  snapshot?: { configMap: string; mountPath: string };
  /** Path of the plexus executable in the image. */
  command?: readonly string[];
}

export function snapshotConfigMapName(run: DataRun): string {
  return childName([run.metadata.name, 'run-files'], 253);
}

export function workerJobName(run: DataRun, runId: number, attempt: number): string {
  return childName([run.metadata.name, `r${runId}`, `a${attempt}`]);
}

/** Labels every object made for the DataRun carries (pods inherit those of the template). */
export function dataRunLabels(run: DataRun): Record<string, string> {
  return { [LABEL_MANAGED_BY]: 'plexus', [LABEL_DATARUN]: childName([run.metadata.name]) };
}

export function buildWorkerJob(input: WorkerJobInput): Job {
  const { run, keyspace, runId, attempt } = input;
  const w = run.spec.workers ?? {};
  const labels = {
    ...dataRunLabels(run),
    [LABEL_RUN_ID]: String(runId),
    [LABEL_ATTEMPT]: String(attempt),
  };
  const concurrency = w.concurrency ?? 4;
  // spec env last: a user may override a connection variable on purpose
  const userEnv = w.env ?? [];
  const userNames = new Set(userEnv.map((e) => e.name));
  const sftpEnv: EnvVar[] = [];
  if (input.sftpKeys) {
    const keys = Object.fromEntries(input.sftpKeys.users.map((u) => [u, `${SFTP_KEYS_PATH}/${u}`]));
    sftpEnv.push({ name: 'PLEXUS_SFTP_PRIVATE_KEYS', value: JSON.stringify(keys) });
    if (input.sftpKeys.knownHosts) {
      sftpEnv.push({ name: 'PLEXUS_SFTP_KNOWN_HOSTS', value: `${SFTP_KEYS_PATH}/${SFTP_KNOWN_HOSTS_KEY}` });
    }
  }
  const env: EnvVar[] = [
    ...[...input.connectionEnv, ...sftpEnv].filter((e) => !userNames.has(e.name)),
    { name: 'PLEXUS_LOG_FORMAT', value: 'json' },
    { name: 'PLEXUS_METRICS_PORT', value: String(METRICS_PORT) },
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ...userEnv,
  ];
  const volumes: Record<string, unknown>[] = [...((w.volumes ?? []) as Record<string, unknown>[])];
  const volumeMounts: Record<string, unknown>[] = [...((w.volumeMounts ?? []) as Record<string, unknown>[])];
  if (input.snapshot) {
    volumes.push({ name: SNAPSHOT_VOLUME, configMap: { name: input.snapshot.configMap } });
    volumeMounts.push({ name: SNAPSHOT_VOLUME, mountPath: input.snapshot.mountPath, readOnly: true });
  }
  if (input.sftpKeys) {
    // one file per key; 0400 (0440 with the fsGroup below): private keys readable by the worker only
    volumes.push({
      name: SFTP_KEYS_VOLUME,
      secret: { secretName: input.sftpKeys.secretName, defaultMode: 0o400 },
    });
    volumeMounts.push({ name: SFTP_KEYS_VOLUME, mountPath: SFTP_KEYS_PATH, readOnly: true });
  }
  const container: Container = {
    name: 'worker',
    image: w.image ?? input.image,
    ...(w.imagePullPolicy ? { imagePullPolicy: w.imagePullPolicy } : {}),
    command: [...(input.command ?? ['plexus'])],
    args: ['worker', '--keyspace', keyspace, '--concurrency', String(concurrency)],
    env,
    ports: [{ name: 'metrics', containerPort: METRICS_PORT }],
    ...(w.resources ? { resources: w.resources } : {}),
    ...(volumeMounts.length > 0 ? { volumeMounts } : {}),
    readinessProbe: { httpGet: { path: '/readyz', port: 'metrics' }, periodSeconds: 10 },
    livenessProbe: { httpGet: { path: '/healthz', port: 'metrics' }, periodSeconds: 20, failureThreshold: 6 },
    securityContext: {
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      readOnlyRootFilesystem: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
  const podSpec: PodSpec = {
    restartPolicy: 'OnFailure',
    // workers release batches in flight on SIGTERM (their shutdown grace is 60 s)
    terminationGracePeriodSeconds: 75,
    securityContext: {
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
      ...(input.sftpKeys ? { fsGroup: WORKER_FS_GROUP, fsGroupChangePolicy: 'OnRootMismatch' } : {}),
    },
    containers: [container],
    ...(w.serviceAccountName ? { serviceAccountName: w.serviceAccountName } : {}),
    automountServiceAccountToken: false,
    ...(w.nodeSelector ? { nodeSelector: w.nodeSelector } : {}),
    ...(w.tolerations ? { tolerations: w.tolerations } : {}),
    ...(w.imagePullSecrets ? { imagePullSecrets: w.imagePullSecrets } : {}),
    ...(volumes.length > 0 ? { volumes } : {}),
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: workerJobName(run, runId, attempt),
      namespace: run.metadata.namespace ?? 'default',
      labels,
      ownerReferences: [controllerReference(run as unknown as KubeObject)],
    },
    spec: {
      parallelism: w.replicas ?? 1,
      // workers run until told to stop; the controller scales the Job to 0 when the run ends
      backoffLimit: 6,
      template: { metadata: { labels }, spec: podSpec },
    },
  };
}

/** A Job that failed for good (its pods kept failing, or it hit a deadline). */
export function jobFailed(job: Job): JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
}
