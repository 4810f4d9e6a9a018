/**
 * The DataRun reconcile (level-triggered, idempotent). Each pass re-reads the DataRun, its Jobs and the run's
 * workflow tables, acts, and writes status once.
 *
 * Starting the run exactly once — the crash window:
 *   1. the run id is taken from the store (`nextRunId`, an LWT counter) and nothing else happens yet;
 *   2. the id is written to `status.runId` with the resourceVersion the decision was made from (optimistic:
 *      a stale read fails with a Conflict and the taken id is simply never used);
 *   3. only then is the run started (`startRun` with that id: run properties, tables, start status, first
 *      batches). Every step is insert-if-missing and each node's batches are published once (claimOnce), so a
 *      controller that dies anywhere in 3 resumes the same run; one that dies between 1 and 2 leaves an unused
 *      run id (no properties, no batches), never a second run.
 */
import type { Logger } from 'pino';
import { dataRunKeyspace, type DataRun, type DataRunStatus } from '../../api/index.js';
import { UserInputError } from '../../errors/index.js';
import { runReport, startRun, stopRun, type RunReport } from '../../runtime/index.js';
import { RunStatus } from '../../store/index.js';
import type { Clock } from '../clock.js';
import type { OperatorConfig } from '../config.js';
import type { ReconcileOutcome, ReconcileRequest } from '../controller.js';
import type { EventRecorder } from '../events.js';
import {
  addFinalizer,
  hasFinalizer,
  isBeingDeleted,
  removeFinalizer,
  controllerReference,
} from '../finalizers.js';
import {
  CONFIGMAPS,
  isAlreadyExists,
  isNotFound,
  JOBS,
  PODS,
  type KubeClient,
  type KubeObject,
} from '../kube-client.js';
import { DATARUN_RESOURCE } from '../resources.js';
import { writeStatus } from '../status-writer.js';
import {
  ClientPool,
  resolveConnections,
  resolveSftpKeys,
  sftpKeysSecretOf,
  withRunSftpReader,
  type Clients,
} from './connections.js';
import {
  buildWorkerJob,
  dataRunLabels,
  jobFailed,
  LABEL_ATTEMPT,
  LABEL_DATARUN,
  LABEL_RUN_ID,
  snapshotConfigMapName,
  type Job,
} from './job.js';
import { resolveRun, SpecError, type ConfigMap, type ResolvedRun } from './source.js';
import { computeStatus, isTerminalPhase, type Observed } from './status.js';

export const FINALIZER = 'plexus.dev/cleanup';
export const SKIP_CLEANUP_ANNOTATION = 'plexus.dev/skip-cleanup';

export interface DataRunReconcilerOptions {
  client: KubeClient;
  config: Pick<OperatorConfig, 'image' | 'defaultSecrets'>;
  events: EventRecorder;
  clock: Clock;
  /** Reads URL sources and files the script refers to. */
  readUrl: (url: string) => Promise<string>;
  /** Environment copied to workers when no connection Secret is configured (default process.env). */
  controllerEnv?: Readonly<Record<string, string | undefined>>;
  /** Where worker pods mount the script snapshot (default /etc/plexus/run). */
  snapshotMountPath?: string;
  /** Command of the worker container (default ["plexus"]). */
  workerCommand?: readonly string[];
  /** Progress polling while a run is active, also the minimum interval of progress-only status writes. */
  progressIntervalMs?: number;
  /** Worker Job attempts (a failed Job is a lost attempt) before the DataRun fails. Default 5. */
  maxAttempts?: number;
  /** Live DataRuns, to keep queues and keyspaces another DataRun still uses. */
  listDataRuns?: () => DataRun[];
  /** Called with the phase after each status write (metrics). */
  onPhase?: (run: DataRun, status: DataRunStatus) => void;
}

export const DEFAULT_SNAPSHOT_MOUNT = '/etc/plexus/run';

export class DataRunReconciler {
  private readonly clients = new ClientPool();
  private readonly resolved = new Map<string, { generation: number; run: ResolvedRun }>();
  private readonly lastWrite = new Map<string, number>();
  private readonly mount: string;
  private readonly interval: number;
  private readonly maxAttempts: number;

  constructor(private readonly opts: DataRunReconcilerOptions) {
    this.mount = opts.snapshotMountPath ?? DEFAULT_SNAPSHOT_MOUNT;
    this.interval = opts.progressIntervalMs ?? 5000;
    this.maxAttempts = opts.maxAttempts ?? 5;
  }

  async close(): Promise<void> {
    await this.clients.close();
  }

  readonly reconcile = async (req: ReconcileRequest): Promise<ReconcileOutcome | void> => {
    const { client } = this.opts;
    let run = await client.get<DataRun>(DATARUN_RESOURCE, req.namespace, req.name);
    if (!run) {
      this.forget(req.key);
      return;
    }
    if (isBeingDeleted(run)) {
      await this.cleanup(run, req.logger);
      this.forget(req.key);
      return;
    }
    run = await addFinalizer(client, DATARUN_RESOURCE, run, FINALIZER);
    const ks = dataRunKeyspace(run);

    if (isTerminalPhase(run.status?.phase) && run.status?.runId !== undefined) {
      // finished: the workers are scaled down; nothing else changes
      await this.scaleDownJobs(run, undefined);
      if (run.status.observedGeneration !== run.metadata.generation)
        await this.write(run, { ...run.status }, req.key, true);
      return;
    }

    // ---- spec: script, params, connections ----
    let resolved: ResolvedRun;
    let clients: Clients;
    let connectionEnv;
    let sftpKeys;
    try {
      resolved = await this.resolve(run);
      const conn = await resolveConnections(
        client,
        run,
        this.opts.config.defaultSecrets,
        this.opts.controllerEnv ?? process.env,
      );
      connectionEnv = conn.env;
      sftpKeys = await resolveSftpKeys(client, run, this.opts.config.defaultSecrets.sftp);
      try {
        clients = this.clients.get(conn.values);
      } catch (err) {
        if (err instanceof UserInputError)
          throw new SpecError('InvalidConnection', `spec.connections: ${err.message}`);
        throw err;
      }
      if (!(run.spec.workers?.image ?? this.opts.config.image)) {
        throw new SpecError(
          'NoImage',
          'spec.workers.image: not set and the controller has no default image (PLEXUS_IMAGE)',
        );
      }
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      if (run.status?.phase !== 'Failed')
        await this.opts.events.warning(run as KubeObject, err.reason, 'Validate', err.message);
      await this.write(run, computeStatus(run, this.observed(ks, { invalid: err })), req.key, true);
      return;
    }
    const { store, queue } = clients;
    const snapshotName = await this.ensureSnapshot(run, resolved);

    // ---- suspend ----
    if (run.spec.suspend) {
      const runId = run.status?.runId;
      let report: RunReport | undefined;
      if (runId !== undefined && (await store.keyspaceExists(ks))) {
        report = await this.report(clients, ks, runId);
        if (report && !report.finished) {
          await stopRun(store, ks, runId, 'suspended (spec.suspend)');
          report = await this.report(clients, ks, runId);
          await this.opts.events.normal(run as KubeObject, 'Suspended', 'StopRun', `run ${runId} stopped`);
        }
      }
      await this.scaleDownJobs(run, undefined);
      await this.write(
        run,
        computeStatus(run, this.observed(ks, { suspended: true, runId, report, script: resolved.loaded })),
        req.key,
        true,
      );
      return;
    }

    // ---- take a run id and record it before anything is published ----
    let runId = run.status?.runId;
    const resuming =
      runId !== undefined &&
      run.status?.phase === 'Suspended' &&
      (await this.report(clients, ks, runId))?.status === RunStatus.Stop;
    if (runId === undefined || resuming) {
      await store.ensureKeyspace(ks);
      const id = await store.nextRunId(ks);
      const status: DataRunStatus = {
        ...computeStatus(run, this.observed(ks, { runId: id, waiting: waitingFor('starting run') })),
        runId: id,
      };
      // a resumed DataRun starts a new run: the old run's times and counts do not apply
      delete status.completionTime;
      delete status.startTime;
      delete status.nodes;
      const updated = await this.write(run, status, req.key, true);
      if (!updated) throw new Error(`status.runId ${id} was not recorded`);
      run = updated;
      runId = id;
      await this.opts.events.normal(
        run as KubeObject,
        resuming ? 'Resumed' : 'RunIdTaken',
        'StartRun',
        `run id ${id} in keyspace ${ks}`,
      );
    }

    // ---- start the run (idempotent resume of a half-done start) ----
    const history = await store.getRunHistory(ks, runId);
    if (!history.some((h) => h.status === RunStatus.Start)) {
      const started = await startRun({
        store,
        queue,
        ks,
        script: resolved.loaded,
        startNodes: run.spec.startNodes,
        scriptUrl: resolved.script.url,
        ...(resolved.params ? { paramsUrl: resolved.params.url } : {}),
        overrides: resolved.overrides,
        description: `DataRun ${run.metadata.namespace ?? 'default'}/${run.metadata.name}`,
        runId,
      });
      await this.opts.events.normal(
        run as KubeObject,
        'RunStarted',
        'StartRun',
        `run ${runId} started in keyspace ${ks}: ${started.affectedNodes.length} node(s)`,
      );
      req.logger.info({ ks, runId, nodes: started.affectedNodes.length }, 'run started');
    }

    const report = await this.report(clients, ks, runId);
    if (report?.finished) {
      await this.scaleDownJobs(run, undefined);
      const status = computeStatus(run, this.observed(ks, { runId, report, script: resolved.loaded }));
      await this.write(run, status, req.key, true);
      await this.opts.events[status.phase === 'Succeeded' ? 'normal' : 'warning'](
        run as KubeObject,
        status.phase === 'Succeeded' ? 'Succeeded' : 'Failed',
        'Finish',
        status.message ?? '',
      );
      return;
    }

    // ---- the worker Job ----
    const jobs = await this.jobsOf(run, runId);
    const current = jobs[jobs.length - 1];
    let failure: { reason: string; message: string } | undefined;
    let waiting: { reason: string; message: string } | undefined;
    if (!current || jobFailed(current.job)) {
      const attempt = current ? current.attempt + 1 : 1;
      if (current && attempt > this.maxAttempts) {
        const why = jobFailed(current.job);
        failure = {
          reason: 'BackoffLimitExceeded',
          message:
            `worker Job failed ${current.attempt} time(s); last: ${why?.reason ?? ''} ${why?.message ?? ''}`.trim(),
        };
        await stopRun(store, ks, runId, failure.message);
        await this.scaleDownJobs(run, undefined);
        await this.opts.events.warning(run as KubeObject, failure.reason, 'Workers', failure.message);
      } else {
        if (current) {
          const why = jobFailed(current.job);
          await this.opts.events.warning(
            run as KubeObject,
            'WorkersLost',
            'Workers',
            `worker Job ${current.job.metadata.name} failed (${why?.reason ?? 'unknown'}); attempt ${attempt} of ${this.maxAttempts}`,
          );
          await this.scaleDownJobs(run, undefined);
        }
        const job = buildWorkerJob({
          run,
          keyspace: ks,
          runId,
          attempt,
          image: run.spec.workers?.image ?? this.opts.config.image ?? '',
          connectionEnv,
          ...(sftpKeys ? { sftpKeys } : {}),
          ...(snapshotName ? { snapshot: { configMap: snapshotName, mountPath: this.mount } } : {}),
          ...(this.opts.workerCommand ? { command: this.opts.workerCommand } : {}),
        });
        try {
          await this.opts.client.create<Job>(JOBS, job.metadata.namespace ?? 'default', job);
          await this.opts.events.normal(
            run as KubeObject,
            'WorkersCreated',
            'Workers',
            `Job ${job.metadata.name}: ${job.spec?.parallelism ?? 0} worker(s)`,
          );
        } catch (err) {
          if (!isAlreadyExists(err)) throw err;
        }
        waiting = waitingFor('waiting for workers');
      }
    } else {
      const replicas = run.spec.workers?.replicas ?? 1;
      if (current.job.spec?.parallelism !== replicas || current.job.spec.suspend) {
        await this.opts.client.mergePatch(
          JOBS,
          run.metadata.namespace ?? 'default',
          current.job.metadata.name,
          {
            spec: { parallelism: replicas, suspend: false },
          },
        );
      }
      if ((current.job.status?.ready ?? current.job.status?.active ?? 0) === 0)
        waiting = waitingFor('waiting for workers');
    }

    const status = computeStatus(
      run,
      this.observed(ks, {
        runId,
        ...(report ? { report } : {}),
        script: resolved.loaded,
        ...(failure ? { failure } : {}),
        ...(waiting ? { waiting } : {}),
      }),
    );
    const written = await this.write(run, status, req.key, false);
    if (isTerminalPhase(status.phase)) return;
    const due = written
      ? this.interval
      : Math.max(100, this.interval - (this.now() - (this.lastWrite.get(req.key) ?? 0)));
    return { requeueAfterMs: due };
  };

  private now(): number {
    return this.opts.clock.now();
  }

  private forget(key: string): void {
    this.lastWrite.delete(key);
    this.resolved.delete(key);
  }

  private observed(ks: string, o: Partial<Omit<Observed, 'keyspace' | 'nowMs'>>): Observed {
    return { suspended: false, ...o, keyspace: ks, nowMs: this.now() };
  }

  /**
   * Writes status. Progress-only changes (same phase and condition statuses) are written at most once per
   * progress interval; `force` writes any change at once. Resolves to the updated object, or undefined.
   */
  private async write(
    run: DataRun,
    status: DataRunStatus,
    key: string,
    force: boolean,
  ): Promise<DataRun | undefined> {
    if (!force && run.status && sameShape(run.status, status)) {
      const last = this.lastWrite.get(key) ?? 0;
      if (this.now() - last < this.interval) return undefined;
    }
    const updated = await writeStatus(this.opts.client, DATARUN_RESOURCE, run, status);
    if (updated) {
      this.lastWrite.set(key, this.now());
      this.opts.onPhase?.(updated, status);
    }
    return updated;
  }

  private async resolve(run: DataRun): Promise<ResolvedRun> {
    const key = `${run.metadata.namespace ?? 'default'}/${run.metadata.name}`;
    const gen = run.metadata.generation ?? 0;
    const hit = this.resolved.get(key);
    // script, params and overrides are immutable: a new generation only re-checks connections
    if (hit && hit.generation === gen) return hit.run;
    const snap = await this.opts.client.get<ConfigMap>(
      CONFIGMAPS,
      run.metadata.namespace ?? 'default',
      snapshotConfigMapName(run),
    );
    const owned = snap?.metadata.ownerReferences?.some((r) => r.uid === run.metadata.uid);
    const defaultSftp = this.opts.config.defaultSecrets.sftp;
    const resolveWith = (readUrl: (url: string) => Promise<string>): Promise<ResolvedRun> =>
      resolveRun(this.opts.client, run, this.mount, readUrl, owned ? (snap?.data ?? {}) : {});
    // sftp:// files of a run that has SFTP keys (its own or the controller's default Secret) are read with
    // those keys (the controller has none of its own)
    const resolved = sftpKeysSecretOf(run, defaultSftp)
      ? await withRunSftpReader(
          this.opts.client,
          run,
          (readSftp) =>
            resolveWith((url) => (/^sftp:\/\//i.test(url) ? readSftp(url) : this.opts.readUrl(url))),
          undefined,
          defaultSftp,
        )
      : await resolveWith(this.opts.readUrl);
    this.resolved.set(key, { generation: gen, run: resolved });
    return resolved;
  }

  /** Creates the snapshot ConfigMap of the ConfigMap/inline texts (once); resolves to its name, if any. */
  private async ensureSnapshot(run: DataRun, resolved: ResolvedRun): Promise<string | undefined> {
    const data: Record<string, string> = {};
    for (const s of [resolved.script, resolved.params])
      if (s?.snapshot) data[s.snapshot.key] = s.snapshot.text;
    if (Object.keys(data).length === 0) return undefined;
    const name = snapshotConfigMapName(run);
    const ns = run.metadata.namespace ?? 'default';
    try {
      await this.opts.client.create<ConfigMap>(CONFIGMAPS, ns, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name,
          namespace: ns,
          labels: dataRunLabels(run),
          ownerReferences: [controllerReference(run as KubeObject)],
        },
        data,
        immutable: true,
      } as ConfigMap);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    return name;
  }

  private async report(clients: Clients, ks: string, runId: number): Promise<RunReport | undefined> {
    try {
      return await runReport(clients.store, ks, runId);
    } catch (err) {
      if (err instanceof UserInputError && err.code === 'UNKNOWN_RUN') return undefined;
      throw err;
    }
  }

  /** The DataRun's Jobs (of one run id, when given), oldest attempt first. */
  private async jobsOf(run: DataRun, runId: number | undefined): Promise<{ job: Job; attempt: number }[]> {
    const labels = dataRunLabels(run);
    let selector = `${LABEL_DATARUN}=${labels[LABEL_DATARUN]}`;
    if (runId !== undefined) selector += `,${LABEL_RUN_ID}=${runId}`;
    const list = await this.opts.client.list<Job>(JOBS, {
      namespace: run.metadata.namespace ?? 'default',
      labelSelector: selector,
    });
    return list.items
      .filter((j) => j.metadata.ownerReferences?.some((r) => r.uid === run.metadata.uid))
      .map((job) => ({ job, attempt: Number(job.metadata.labels?.[LABEL_ATTEMPT] ?? '0') }))
      .sort((a, b) => a.attempt - b.attempt);
  }

  /** Scales the DataRun's Jobs to 0 (their pods end; the Jobs stay as a record until the DataRun goes). */
  private async scaleDownJobs(run: DataRun, runId: number | undefined): Promise<void> {
    for (const { job } of await this.jobsOf(run, runId)) {
      if (job.spec?.parallelism === 0) continue;
      await this.opts.client.mergePatch(JOBS, run.metadata.namespace ?? 'default', job.metadata.name, {
        spec: { parallelism: 0 },
      });
    }
  }

  /**
   * Deletion: stop the run, delete the workers, the queues (unless another DataRun uses the keyspace) and,
   * with cleanupPolicy DropKeyspace, the keyspace; then release the finalizer.
   */
  private async cleanup(run: DataRun, logger: Logger): Promise<void> {
    if (!hasFinalizer(run, FINALIZER)) return;
    const ns = run.metadata.namespace ?? 'default';
    if (run.metadata.annotations?.[SKIP_CLEANUP_ANNOTATION] === 'true') {
      logger.warn('cleanup skipped (annotation)');
      await removeFinalizer(this.opts.client, DATARUN_RESOURCE, run, FINALIZER);
      return;
    }
    const ks = dataRunKeyspace(run);
    // the Jobs and their pods first: no worker may pick up more batches
    for (const { job } of await this.jobsOf(run, undefined)) {
      await this.opts.client.delete(JOBS, ns, job.metadata.name, { propagationPolicy: 'Background' });
    }
    const pods = await this.opts.client.list<KubeObject>(PODS, {
      namespace: ns,
      labelSelector: `${LABEL_DATARUN}=${dataRunLabels(run)[LABEL_DATARUN]}`,
    });
    for (const pod of pods.items) await this.opts.client.delete(PODS, ns, pod.metadata.name);
    try {
      await this.opts.client.delete(CONFIGMAPS, ns, snapshotConfigMapName(run));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    let clients: Clients;
    try {
      const conn = await resolveConnections(
        this.opts.client,
        run,
        this.opts.config.defaultSecrets,
        this.opts.controllerEnv ?? process.env,
      );
      clients = this.clients.get(conn.values);
    } catch (err) {
      if (!(err instanceof SpecError || err instanceof UserInputError)) throw err;
      // the connection Secret is gone or unusable: nothing can be cleaned; say so and let the object go
      logger.warn({ err: err.message }, 'cleanup impossible: connections unresolvable');
      await this.opts.events.warning(run as KubeObject, 'CleanupSkipped', 'Cleanup', err.message);
      await removeFinalizer(this.opts.client, DATARUN_RESOURCE, run, FINALIZER);
      return;
    }
    const { store, queue } = clients;
    const runId = run.status?.runId;
    if (runId !== undefined && (await store.keyspaceExists(ks))) {
      const props = await store.getRunProperties(ks);
      if (props.some((p) => p.runId === runId)) {
        const report = await runReport(store, ks, runId);
        if (!report.finished) await stopRun(store, ks, runId, 'DataRun deleted');
      }
    }
    const shared = (this.opts.listDataRuns?.() ?? []).some(
      (o) => o.metadata.uid !== run.metadata.uid && !isBeingDeleted(o) && dataRunKeyspace(o) === ks,
    );
    if (shared) {
      logger.info({ ks }, 'keyspace shared with another DataRun: queues and keyspace kept');
    } else {
      await queue.deleteQueues(ks);
      if (run.spec.cleanupPolicy === 'DropKeyspace') await store.dropKeyspace(ks);
    }
    await this.opts.events.normal(
      run as KubeObject,
      'CleanedUp',
      'Cleanup',
      shared
        ? `run stopped; keyspace ${ks} is shared and kept`
        : `run stopped, queues deleted${run.spec.cleanupPolicy === 'DropKeyspace' ? `, keyspace ${ks} dropped` : ''}`,
    );
    await removeFinalizer(this.opts.client, DATARUN_RESOURCE, run, FINALIZER);
    logger.info({ ks }, 'cleanup done');
  }
}

function waitingFor(message: string): { reason: string; message: string } {
  return { reason: 'WaitingForWorkers', message };
}

/** Same phase and the same condition statuses: only counts changed. */
function sameShape(a: DataRunStatus, b: DataRunStatus): boolean {
  if (a.phase !== b.phase || a.runId !== b.runId) return false;
  const key = (s: DataRunStatus) =>
    (s.conditions ?? [])
      .map((c) => `${c.type}=${c.status}/${c.reason}`)
      .sort()
      .join(',');
  return key(a) === key(b);
}
