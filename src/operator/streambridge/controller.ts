/**
 * The StreamBridge controller: renders each bridge into an owned ConfigMap, headless Service and
 * StatefulSet, scrapes the bridge pods' `/status` snapshots and writes the StreamBridge status (through the
 * status subresource, at a bounded rate). Pods never write the resource. Deletion is left to owner
 * references (garbage collection): nothing outside Kubernetes belongs to a bridge, so there is no finalizer.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { BridgeStatus } from '../../bridge/index.js';
import { validateStreamBridge, type StreamBridge } from '../../api/index.js';
import { PlexusError, UserInputError, errorMessage } from '../../errors/index.js';
import { systemClock, type Clock } from '../clock.js';
import type { Controller } from '../controller.js';
import type { EventRecorder } from '../events.js';
import type { Informer } from '../informer.js';
import { controllerKey, controllerReference } from '../finalizers.js';
import {
  CONFIGMAPS,
  PODS,
  SECRETS,
  SERVICES,
  isAlreadyExists,
  type KubeClient,
  type KubeObject,
  type ResourceType,
} from '../kube-client.js';
import type { Manager } from '../manager.js';
import { STREAMBRIDGE_RESOURCE } from '../resources.js';
import { writeStatus } from '../status-writer.js';
import {
  CONFIG_HASH_ANNOTATION,
  DEFAULT_METRICS_PORT,
  SPEC_HASH_ANNOTATION,
  desiredReplicas,
  podSelector,
  renderBridgeConfig,
  renderConfigMap,
  renderService,
  renderStatefulSet,
  serviceDiff,
  type ConfigMapObject,
  type ServiceObject,
  type StatefulSetObject,
} from './render.js';
import { DEFAULT_STALE_AFTER_MS, reduceStatus, shouldWrite, type PodReport } from './status.js';

export const STATEFULSETS: ResourceType = {
  group: 'apps',
  version: 'v1',
  plural: 'statefulsets',
  kind: 'StatefulSet',
};

/** The parts of a Pod the controller reads. */
export interface PodObject extends KubeObject {
  spec?: { containers?: Array<{ name: string; ports?: Array<{ name?: string; containerPort: number }> }> };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: Array<{ type: string; status: string }>;
  };
}

/** Fetches one pod's bridge status snapshot; throws when the pod cannot be reached. */
export type StatusScraper = (pod: PodObject, signal: AbortSignal) => Promise<BridgeStatus>;

export interface StreamBridgeControllerOptions {
  client: KubeClient;
  /** Image when a StreamBridge names none (PLEXUS_IMAGE). */
  defaultImage?: string;
  /** Port of the bridge's /metrics, /healthz, /readyz, /status (default 9090). */
  metricsPort?: number;
  /** How often a bridge is reconciled to gather its pods' reports (default 15 s). */
  pollIntervalMs?: number;
  /** Counter-only status changes are written at most this often per bridge (default 30 s). */
  minStatusIntervalMs?: number;
  /** A pod report older than this is stale: phase Degraded (default 60 s). */
  staleAfterMs?: number;
  /** Timeout of one /status request (default 3 s). */
  scrapeTimeoutMs?: number;
  scraper?: StatusScraper;
  events?: EventRecorder;
  clock?: Clock;
}

/** GET http://<podIP>:<port named "metrics">/status. */
export function httpStatusScraper(defaultPort: number, timeoutMs: number): StatusScraper {
  return async (pod, signal) => {
    const ip = pod.status?.podIP;
    if (!ip) throw new Error('the pod has no IP yet');
    const port =
      pod.spec?.containers?.flatMap((c) => c.ports ?? []).find((p) => p.name === 'metrics')?.containerPort ??
      defaultPort;
    const host = ip.includes(':') ? `[${ip}]` : ip;
    const res = await fetch(`http://${host}:${port}/status`, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
    if (!res.ok) throw new Error(`GET /status: HTTP ${res.status}`);
    const body = (await res.json()) as BridgeStatus;
    if (!body || typeof body !== 'object' || !body.counters || !body.source || !body.sink) {
      throw new Error('GET /status: not a bridge status report');
    }
    return body;
  };
}

interface PodMemory {
  report: BridgeStatus;
  at: number;
  /** The last report of the pod's previous bridge process (its container restarted), if one was seen. */
  prior?: { report: BridgeStatus; reportedAt: number };
}

/** Reconciles StreamBridges. `reconcile` is the Reconciler a Controller runs. */
export class StreamBridgeReconciler {
  private readonly clock: Clock;
  private readonly scraper: StatusScraper;
  /** Last good report per pod uid, and last status write per bridge key. */
  private readonly reports = new Map<string, PodMemory>();
  private readonly lastWrite = new Map<string, number>();
  /** Bridges whose Service name is taken by a Service that is not headless (warned about once). */
  private readonly serviceConflicts = new Set<string>();
  private readonly pollMs: number;
  private readonly minIntervalMs: number;

  constructor(private readonly opts: StreamBridgeControllerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.scraper =
      opts.scraper ??
      httpStatusScraper(opts.metricsPort ?? DEFAULT_METRICS_PORT, opts.scrapeTimeoutMs ?? 3000);
    this.pollMs = opts.pollIntervalMs ?? 15_000;
    this.minIntervalMs = opts.minStatusIntervalMs ?? 30_000;
  }

  readonly reconcile = async (req: {
    namespace: string;
    name: string;
    key: string;
    signal: AbortSignal;
    logger: Logger;
  }): Promise<{ requeueAfterMs: number } | void> => {
    const { client } = this.opts;
    const sb = await client.get<StreamBridge>(STREAMBRIDGE_RESOURCE, req.namespace, req.name);
    if (!sb) {
      this.forget(req.namespace, req.name);
      this.lastWrite.delete(req.key);
      this.serviceConflicts.delete(req.key);
      return;
    }
    // Deletion: the ConfigMap, Service and StatefulSet go with the bridge (owner references).
    if (sb.metadata.deletionTimestamp) return;

    let specError: string | undefined;
    let specReason = 'InvalidSpec';
    let replicas = 0;
    try {
      replicas = await this.applyWorkload(sb, req.logger);
    } catch (err) {
      if (!(err instanceof PlexusError) || err.code === 'KUBE_UNREACHABLE' || isKubeError(err)) throw err;
      specError = errorMessage(err);
      if (err.code === 'STREAMBRIDGE_SECRET_MISSING') specReason = 'SecretMissing';
      // Logged and recorded once per distinct problem (it is re-checked every poll interval).
      if (sb.status?.phase !== 'Failed' || sb.status.message !== specError) {
        req.logger.warn({ err: specError }, 'bridge spec cannot run');
        void this.opts.events?.record(sb, 'Warning', specReason, 'Reconcile', specError);
      } else req.logger.debug({ err: specError }, 'bridge spec still cannot run');
    }

    const pods = specError === undefined ? await this.gatherReports(sb, req.signal) : [];
    const now = this.clock.now();
    const next = reduceStatus({
      generation: sb.metadata.generation ?? 0,
      desiredReplicas: replicas,
      pods,
      ...(specError !== undefined ? { specError, specReason } : {}),
      staleAfterMs: this.opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS,
      ...(sb.status ? { previous: sb.status } : {}),
      now,
    });
    const observedChanged = sb.status?.observedGeneration !== sb.metadata.generation;
    let deferred = false;
    if (
      observedChanged ||
      shouldWrite(sb.status, next, this.lastWrite.get(req.key), now, this.minIntervalMs)
    ) {
      const written = await writeStatus<StreamBridge>(client, STREAMBRIDGE_RESOURCE, sb, next);
      if (written) {
        this.lastWrite.set(req.key, now);
        if (sb.status?.phase !== next.phase) {
          req.logger.info({ from: sb.status?.phase, to: next.phase }, 'phase changed');
          void this.opts.events?.record(
            sb,
            next.phase === 'Failed' || next.phase === 'Degraded' ? 'Warning' : 'Normal',
            next.phase ?? 'Unknown',
            'Reconcile',
            next.message ?? `bridge is ${next.phase}`,
          );
        }
      }
    } else {
      // Only counters moved and the last write is recent: write them once the interval has passed.
      deferred = shouldWrite(sb.status, next, undefined, now, 0);
    }
    // A spec error is retried at the poll interval too: a missing Secret may appear (Secrets are not watched).
    if (specError !== undefined) return { requeueAfterMs: this.pollMs };
    const last = this.lastWrite.get(req.key) ?? now;
    const wait = deferred ? Math.max(100, last + this.minIntervalMs - now) : this.pollMs;
    return { requeueAfterMs: Math.min(this.pollMs, wait) };
  };

  /** Creates or updates the ConfigMap, the Service and the StatefulSet; resolves to the desired replicas. */
  private async applyWorkload(sb: StreamBridge, log: Logger): Promise<number> {
    const { client } = this.opts;
    const ns = sb.metadata.namespace ?? 'default';
    // The spec only: the status is the controller's own.
    const { status: _status, ...withoutStatus } = sb;
    const check = validateStreamBridge(withoutStatus);
    if (!check.valid) {
      throw new PlexusError(
        'STREAMBRIDGE_INVALID',
        `StreamBridge ${ns}/${sb.metadata.name}: ${check.errors.map((e) => `${e.path || '(object)'}: ${e.message}`).join('; ')}`,
      );
    }
    const replicas = desiredReplicas(sb);
    // Every referenced Secret must exist (the pod would not start otherwise); its key names feed the
    // WebSocket headers and a hash of its data rolls the pods when credentials are rotated.
    const secretKeys: Record<string, string[]> = {};
    const secretData: Record<string, Record<string, string>> = {};
    for (const role of ['source', 'sink'] as const) {
      const name = sb.spec[role].credentialsSecretRef?.name;
      if (!name || secretData[name]) continue;
      const secret = await client.get<KubeObject & { data?: Record<string, string> }>(SECRETS, ns, name);
      if (!secret) {
        throw new UserInputError(
          'STREAMBRIDGE_SECRET_MISSING',
          `StreamBridge ${ns}/${sb.metadata.name}: spec.${role}.credentialsSecretRef: Secret ${name} not found in namespace ${ns}`,
        );
      }
      secretData[name] = secret.data ?? {};
      secretKeys[name] = Object.keys(secret.data ?? {});
    }
    const renderOpts = {
      ...(this.opts.defaultImage ? { defaultImage: this.opts.defaultImage } : {}),
      ...(this.opts.metricsPort ? { metricsPort: this.opts.metricsPort } : {}),
      secretKeys,
      ...(Object.keys(secretData).length > 0 ? { secretsHash: hashSecrets(secretData) } : {}),
    };
    const rendered = renderBridgeConfig(sb, renderOpts);
    const owner = controllerReference(sb);
    const sts = renderStatefulSet(sb, rendered, owner, renderOpts);
    const cm = renderConfigMap(sb, rendered, owner);
    const svc = renderService(sb, owner, renderOpts);

    const currentCm = await client.get<ConfigMapObject>(CONFIGMAPS, ns, cm.metadata.name);
    if (!currentCm) await createOrAdopt(client, CONFIGMAPS, ns, cm);
    else if (currentCm.metadata.annotations?.[CONFIG_HASH_ANNOTATION] !== rendered.hash) {
      await client.replace(CONFIGMAPS, ns, cm.metadata.name, {
        ...cm,
        metadata: { ...cm.metadata, resourceVersion: currentCm.metadata.resourceVersion },
      });
      log.info({ hash: rendered.hash }, 'bridge config updated');
    }

    // Before the StatefulSet: its serviceName names this Service (the pods' DNS domain).
    await this.applyService(sb, svc, log);

    const current = await client.get<StatefulSetObject>(STATEFULSETS, ns, sts.metadata.name);
    if (!current) {
      await createOrAdopt(client, STATEFULSETS, ns, sts);
      log.info({ statefulSet: sts.metadata.name, replicas }, 'bridge workload created');
      void this.opts.events?.record(
        sb,
        'Normal',
        'Created',
        'Reconcile',
        `created StatefulSet ${sts.metadata.name}`,
      );
    } else if (
      current.metadata.annotations?.[SPEC_HASH_ANNOTATION] !==
      sts.metadata.annotations?.[SPEC_HASH_ANNOTATION]
    ) {
      // volumeClaimTemplates are immutable: existing claims keep their size and class (documented).
      const body: StatefulSetObject = {
        ...sts,
        metadata: { ...sts.metadata, resourceVersion: current.metadata.resourceVersion },
        spec: { ...sts.spec },
      };
      if (current.spec.volumeClaimTemplates)
        body.spec.volumeClaimTemplates = current.spec.volumeClaimTemplates;
      else delete body.spec.volumeClaimTemplates;
      await client.replace(STATEFULSETS, ns, sts.metadata.name, body);
      log.info({ statefulSet: sts.metadata.name, replicas }, 'bridge workload updated (pods roll)');
      void this.opts.events?.record(
        sb,
        'Normal',
        'Updated',
        'Reconcile',
        `updated StatefulSet ${sts.metadata.name} (config ${rendered.hash})`,
      );
    }
    return replicas;
  }

  /**
   * Creates the headless Service when missing; replaces it (keeping its resourceVersion and the immutable
   * clusterIP) when the fields the controller owns differ. A Service of that name that is not headless
   * cannot be turned into one (clusterIP is immutable): that is logged and recorded once, and left alone.
   */
  private async applyService(sb: StreamBridge, svc: ServiceObject, log: Logger): Promise<void> {
    const { client } = this.opts;
    const ns = sb.metadata.namespace ?? 'default';
    const key = `${ns}/${sb.metadata.name}`;
    const name = svc.metadata.name;
    const current = await client.get<ServiceObject>(SERVICES, ns, name);
    if (!current) {
      await createOrAdopt(client, SERVICES, ns, svc);
      log.info({ service: name }, 'bridge service created');
      void this.opts.events?.record(sb, 'Normal', 'Created', 'Reconcile', `created Service ${name}`);
      return;
    }
    if (current.spec.clusterIP !== 'None') {
      if (!this.serviceConflicts.has(key)) {
        this.serviceConflicts.add(key);
        const note =
          `Service ${ns}/${name} exists with clusterIP ${current.spec.clusterIP || '(none)'}, not headless: ` +
          'the bridge pods get no DNS names and no metrics Service; delete it and the controller creates a headless one';
        log.warn({ service: name, clusterIP: current.spec.clusterIP }, note);
        void this.opts.events?.record(sb, 'Warning', 'ServiceConflict', 'Reconcile', note);
      }
      return;
    }
    this.serviceConflicts.delete(key);
    const drift = serviceDiff(current, svc);
    if (drift.length === 0) return;
    await client.replace<ServiceObject>(SERVICES, ns, name, {
      ...svc,
      metadata: {
        ...svc.metadata,
        // Labels and annotations added by others stay; the rendered labels win.
        labels: { ...current.metadata.labels, ...svc.metadata.labels },
        ...(current.metadata.annotations ? { annotations: current.metadata.annotations } : {}),
        resourceVersion: current.metadata.resourceVersion,
      },
      spec: {
        ...svc.spec,
        clusterIP: current.spec.clusterIP,
        ...(current.spec.clusterIPs ? { clusterIPs: current.spec.clusterIPs } : {}),
      },
    });
    log.info({ service: name, changed: drift }, 'bridge service updated');
    void this.opts.events?.record(
      sb,
      'Normal',
      'Updated',
      'Reconcile',
      `updated Service ${name} (${drift.join(', ')})`,
    );
  }

  /** Drops the remembered reports of a bridge's pods that are gone (all of them without `live`). */
  private forget(ns: string, name: string, live?: ReadonlySet<string>): void {
    const prefix = `${ns}/${name}/`;
    for (const key of [...this.reports.keys()]) {
      if (key.startsWith(prefix) && !live?.has(key.slice(prefix.length))) this.reports.delete(key);
    }
  }

  /**
   * Scrapes every running pod of the bridge; remembers the last good report per pod, and the last report of
   * the pod's previous bridge process when a report names a new instance. Pods on their way out (being
   * deleted, Succeeded, Failed) are reported as finished: a draining pod is still scraped, and their counts
   * still go into the totals.
   */
  private async gatherReports(sb: StreamBridge, signal: AbortSignal): Promise<PodReport[]> {
    const ns = sb.metadata.namespace ?? 'default';
    const list = await this.opts.client.list<PodObject>(PODS, {
      namespace: ns,
      labelSelector: podSelector(sb),
    });
    const pods = list.items;
    this.forget(ns, sb.metadata.name, new Set(pods.map((p) => p.metadata.uid ?? p.metadata.name)));
    return Promise.all(
      pods.map(async (pod): Promise<PodReport> => {
        const memKey = `${ns}/${sb.metadata.name}/${pod.metadata.uid ?? pod.metadata.name}`;
        const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
        const finished =
          pod.metadata.deletionTimestamp !== undefined ||
          pod.status?.phase === 'Succeeded' ||
          pod.status?.phase === 'Failed';
        let scrapeError: string | undefined;
        if (pod.status?.phase === 'Running' && pod.status.podIP) {
          try {
            const report = await this.scraper(pod, signal);
            const at = this.clock.now();
            const before = this.reports.get(memKey);
            const prior =
              before && before.report.instance !== report.instance
                ? { report: before.report, reportedAt: before.at }
                : before?.prior;
            this.reports.set(memKey, { report, at, ...(prior ? { prior } : {}) });
          } catch (err) {
            scrapeError = `status not reachable: ${errorMessage(err)}`;
          }
        } else {
          scrapeError = `pod ${pod.status?.phase ?? 'Pending'}`;
        }
        const mem = this.reports.get(memKey);
        return {
          pod: pod.metadata.name,
          ready,
          ...(mem ? { report: mem.report, reportedAt: mem.at } : {}),
          ...(mem?.prior ? { priorLife: mem.prior } : {}),
          ...(scrapeError ? { scrapeError } : {}),
          ...(finished ? { finished } : {}),
        };
      }),
    );
  }
}

/** SHA-256 (16 hex) over the Secrets' names, keys and values, in a stable order. */
function hashSecrets(data: Record<string, Record<string, string>>): string {
  const h = createHash('sha256');
  for (const name of Object.keys(data).sort()) {
    h.update(name).update('\u0000');
    const d = data[name]!;
    for (const k of Object.keys(d).sort())
      h.update(k)
        .update('=')
        .update(d[k] ?? '')
        .update('\u0000');
  }
  return h.digest('hex').slice(0, 16);
}

function isKubeError(err: PlexusError): boolean {
  return err.code.startsWith('KUBE_');
}

async function createOrAdopt<T extends KubeObject>(
  client: KubeClient,
  rt: ResourceType,
  ns: string,
  body: T,
): Promise<void> {
  try {
    await client.create(rt, ns, body);
  } catch (err) {
    // A retried reconcile meets its own earlier create; the next pass compares hashes.
    if (!isAlreadyExists(err)) throw err;
  }
}

/**
 * Registers the StreamBridge controller on a manager: an informer on StreamBridges (and on the owned
 * StatefulSets, so a workload change is seen at once) and a controller running the reconciler.
 */
export function setupStreamBridgeController(
  manager: Manager,
  opts: StreamBridgeControllerOptions & {
    namespace?: string;
    workers?: number;
    resyncPeriodMs?: number;
  },
): { controller: Controller; bridges: Informer<StreamBridge> } {
  const reconciler = new StreamBridgeReconciler(opts);
  const scope = {
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    ...(opts.resyncPeriodMs !== undefined ? { resyncPeriodMs: opts.resyncPeriodMs } : {}),
  };
  const bridges = manager.informer<StreamBridge>({ resource: STREAMBRIDGE_RESOURCE, ...scope });
  const workloads = manager.informer<StatefulSetObject>({
    resource: STATEFULSETS,
    labelSelector: 'app.kubernetes.io/name=plexus-bridge',
    ...scope,
  });
  const controller = manager.controller({
    name: 'streambridge',
    reconcile: reconciler.reconcile,
    ...(opts.workers ? { workers: opts.workers } : {}),
  });
  controller.watch(bridges);
  controller.watch(workloads, (obj) => controllerKey(obj, 'StreamBridge'));
  return { controller, bridges };
}
