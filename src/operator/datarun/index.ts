/**
 * The DataRun controller: registers the DataRun and owned-Job informers and the reconciler on a Manager.
 * DataRun updates that change only status are ignored (the controller's own writes must not drive it);
 * progress is polled with requeueAfter instead, so status writes stay at a bounded rate.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { DATARUN_KIND, DATARUN_PHASES, type DataRun } from '../../api/index.js';
import { createEngineIo } from '../../runtime/index.js';
import { systemClock, type Clock } from '../clock.js';
import { EventRecorder } from '../events.js';
import { controllerKey } from '../finalizers.js';
import { JOBS, objectKey } from '../kube-client.js';
import type { OperatorContext } from '../run.js';
import { DATARUN_RESOURCE } from '../resources.js';
import { LABEL_MANAGED_BY, type Job } from './job.js';
import { DataRunReconciler, type DataRunReconcilerOptions } from './reconciler.js';

export {
  DataRunReconciler,
  FINALIZER,
  SKIP_CLEANUP_ANNOTATION,
  DEFAULT_SNAPSHOT_MOUNT,
} from './reconciler.js';
export type { DataRunReconcilerOptions } from './reconciler.js';
export {
  buildWorkerJob,
  jobFailed,
  snapshotConfigMapName,
  workerJobName,
  dataRunLabels,
  LABEL_ATTEMPT,
  LABEL_DATARUN,
  LABEL_MANAGED_BY,
  LABEL_RUN_ID,
  SNAPSHOT_VOLUME,
  SFTP_KEYS_PATH,
  SFTP_KEYS_VOLUME,
  SFTP_KNOWN_HOSTS_KEY,
  WORKER_FS_GROUP,
  type Job,
  type SftpKeys,
  type WorkerJobInput,
} from './job.js';
export { computeStatus, nodeState, outputFilesOf, isTerminalPhase, type Observed } from './status.js';
export {
  resolveRun,
  resolveSource,
  formatSuffix,
  SpecError,
  type ResolvedRun,
  type ResolvedSource,
} from './source.js';
export {
  resolveConnections,
  resolveSftpKeys,
  readSftpWithRunKeys,
  withRunSftpReader,
  ClientPool,
  type ResolvedConnections,
} from './connections.js';

export const DATARUN_CONTROLLER = 'datarun';

export interface DataRunControllerOptions extends Partial<
  Pick<
    DataRunReconcilerOptions,
    'controllerEnv' | 'snapshotMountPath' | 'workerCommand' | 'progressIntervalMs' | 'maxAttempts' | 'readUrl'
  >
> {
  registry?: Registry;
  clock?: Clock;
}

/** Registers the DataRun controller; resolves nothing, returns a closer for its Cassandra/RabbitMQ clients. */
export function registerDataRunController(
  ctx: OperatorContext,
  opts: DataRunControllerOptions = {},
): { close(): Promise<void> } {
  const { manager, client, config } = ctx;
  const clock = opts.clock ?? systemClock;
  const namespace = config.watchNamespace;
  const runs = manager.informer<DataRun>({
    resource: DATARUN_RESOURCE,
    ...(namespace ? { namespace } : {}),
    resyncPeriodMs: config.resyncPeriodMs,
  });
  const jobs = manager.informer<Job>({
    resource: JOBS,
    ...(namespace ? { namespace } : {}),
    labelSelector: `${LABEL_MANAGED_BY}=plexus`,
    resyncPeriodMs: 0,
  });
  const events = new EventRecorder({
    client,
    reportingController: 'plexus.dev/datarun-controller',
    reportingInstance: config.identity,
    clock,
    logger: ctx.logger,
  });
  const started = opts.registry
    ? new Counter({
        name: 'plexus_datarun_status_writes_total',
        help: 'DataRun status writes by resulting phase.',
        labelNames: ['phase'],
        registers: [opts.registry],
      })
    : undefined;
  if (opts.registry) {
    new Gauge({
      name: 'plexus_dataruns',
      help: 'DataRuns in the watched namespaces by phase (from the cache).',
      labelNames: ['phase'],
      registers: [opts.registry],
      collect() {
        const counts = new Map<string, number>(DATARUN_PHASES.map((p) => [p, 0]));
        for (const r of runs.list()) {
          const p = r.status?.phase ?? 'Pending';
          counts.set(p, (counts.get(p) ?? 0) + 1);
        }
        for (const [phase, n] of counts) this.set({ phase }, n);
      },
    });
  }
  const reconciler = new DataRunReconciler({
    client,
    config,
    events,
    clock,
    readUrl: opts.readUrl ?? ((url) => createEngineIo().readText(url)),
    listDataRuns: () => runs.list(),
    onPhase: (_run, status) => started?.inc({ phase: status.phase ?? 'Pending' }),
    ...(opts.controllerEnv ? { controllerEnv: opts.controllerEnv } : {}),
    ...(opts.snapshotMountPath ? { snapshotMountPath: opts.snapshotMountPath } : {}),
    ...(opts.workerCommand ? { workerCommand: opts.workerCommand } : {}),
    ...(opts.progressIntervalMs !== undefined ? { progressIntervalMs: opts.progressIntervalMs } : {}),
    ...(opts.maxAttempts !== undefined ? { maxAttempts: opts.maxAttempts } : {}),
  });
  const controller = manager.controller({
    name: DATARUN_CONTROLLER,
    reconcile: reconciler.reconcile,
    workers: config.reconcileWorkers,
    clock,
  });
  const enqueue = (r: DataRun) => controller.queue.add(objectKey(r));
  runs.addHandlers({
    add: enqueue,
    update: (old, r) => {
      const m0 = old.metadata;
      const m1 = r.metadata;
      if (
        m0.generation !== m1.generation ||
        m0.deletionTimestamp !== m1.deletionTimestamp ||
        JSON.stringify(m0.annotations ?? {}) !== JSON.stringify(m1.annotations ?? {}) ||
        JSON.stringify(m0.finalizers ?? []) !== JSON.stringify(m1.finalizers ?? [])
      )
        enqueue(r);
    },
    delete: enqueue,
    resync: enqueue,
  });
  controller.watch(jobs, (j) => controllerKey(j, DATARUN_KIND));
  return { close: () => reconciler.close() };
}
