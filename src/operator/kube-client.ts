/**
 * The one place that talks to the Kubernetes API. Controllers, informers, leader election and the event
 * recorder use the small `KubeClient` interface; the implementation adapts @kubernetes/client-node 1.4
 * (object-parameter API, explicit merge-patch content type, ApiException → typed errors).
 *
 * Every resource is addressed by group/version/plural: under /apis through CustomObjectsApi (custom
 * resources, coordination.k8s.io Leases, events.k8s.io Events, batch Jobs), and the core group (/api/v1:
 * ConfigMaps, Secrets, Pods) through plain REST calls with the same credentials — all as plain JSON (no
 * model classes, so timestamps stay the strings the API server sends and expects). The typed model APIs
 * are avoided on purpose: their serializer silently drops keys it does not know by their TypeScript names,
 * e.g. every `x-kubernetes-*` key of a plain CRD object.
 */
import {
  ApiException,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  Watch,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { PlexusError, TransientError } from '../errors/index.js';
import type { ObjectMeta } from '../api/index.js';
import { RawJsonClient, type RawRequest } from './raw-client.js';

export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export interface ObjectList<T> {
  items: T[];
  resourceVersion: string;
  continue?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  resourceVersion: string;
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
}

export interface WatchHandle {
  /** Closes the stream; `onClose` is not called afterwards. */
  stop(): void;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  limit?: number;
  continue?: string;
}

/**
 * Namespaced calls take the namespace; an empty namespace addresses a cluster-scoped resource (e.g. a
 * CustomResourceDefinition). The status subresource is namespaced only.
 */
export interface KubeClient {
  get<T extends KubeObject>(rt: ResourceType, namespace: string, name: string): Promise<T | undefined>;
  list<T extends KubeObject>(rt: ResourceType, opts?: ListOptions): Promise<ObjectList<T>>;
  /** Streams watch events until the server closes (onClose(undefined)) or an error (onClose(err)). */
  watch<T extends KubeObject>(
    rt: ResourceType,
    opts: WatchOptions,
    onEvent: (type: WatchEventType, obj: T) => void,
    onClose: (err?: PlexusError) => void,
  ): Promise<WatchHandle>;
  create<T extends KubeObject>(rt: ResourceType, namespace: string, body: T): Promise<T>;
  /** PUT: fails with a Conflict when body.metadata.resourceVersion is stale. */
  replace<T extends KubeObject>(rt: ResourceType, namespace: string, name: string, body: T): Promise<T>;
  /** JSON merge patch (application/merge-patch+json) of the object (spec, metadata). */
  mergePatch<T extends KubeObject>(
    rt: ResourceType,
    namespace: string,
    name: string,
    patch: object,
  ): Promise<T>;
  /** JSON merge patch of the status subresource. */
  mergePatchStatus<T extends KubeObject>(
    rt: ResourceType,
    namespace: string,
    name: string,
    patch: object,
  ): Promise<T>;
  /**
   * Deletes; resolves false when the object did not exist. `propagationPolicy` Background makes the garbage
   * collector delete dependents too (Jobs default to Orphan, which would leave their pods running).
   */
  delete(rt: ResourceType, namespace: string, name: string, opts?: DeleteOptions): Promise<boolean>;
}

/** An error answer of the API server, with its HTTP status and Status reason (NotFound, Conflict, ...). */
export class KubeApiError extends PlexusError {
  readonly status: number;
  readonly reason: string;

  constructor(status: number, reason: string, message: string, options?: { cause?: unknown }) {
    super(`KUBE_${reason ? reason.toUpperCase() : status}`, message, options);
    this.status = status;
    this.reason = reason;
  }

  /** Worth retrying as is: throttling, timeouts, server errors. */
  get retryable(): boolean {
    return (
      this.status === 429 ||
      this.status >= 500 ||
      this.reason === 'Timeout' ||
      this.reason === 'ServerTimeout'
    );
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409 && err.reason !== 'AlreadyExists';
}
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409 && err.reason === 'AlreadyExists';
}
/** 410 Gone: a resourceVersion or continue token is too old (reason Expired or Gone). */
export function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 410;
}

interface StatusBody {
  reason?: string;
  message?: string;
  code?: number;
}

function parseStatus(body: unknown): StatusBody {
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === 'object' && parsed !== null ? (parsed as StatusBody) : { message: body };
    } catch {
      return { message: body };
    }
  }
  return typeof body === 'object' && body !== null ? (body as StatusBody) : {};
}

/** ApiException (code + JSON-string body) or a network failure, as a typed error naming the operation. */
export function toKubeError(err: unknown, what: string): PlexusError {
  if (err instanceof PlexusError) return err;
  if (err instanceof ApiException) {
    const status = parseStatus(err.body);
    const reason = status.reason ?? '';
    return new KubeApiError(
      err.code,
      reason,
      `${what}: ${err.code} ${reason || 'error'}: ${status.message ?? ''}`.trim(),
      {
        cause: err,
      },
    );
  }
  const e = err as { statusCode?: unknown; message?: unknown; code?: unknown } | undefined;
  if (e && typeof e.statusCode === 'number') {
    return new KubeApiError(e.statusCode, '', `${what}: HTTP ${e.statusCode} ${String(e.message ?? '')}`, {
      cause: err,
    });
  }
  const detail = e && typeof e.message === 'string' ? e.message : String(err);
  return new TransientError('KUBE_UNREACHABLE', `${what}: cannot reach the API server: ${detail}`, {
    cause: err,
  });
}

export function objectKey(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}

export function parseKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

function where(namespace: string, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function itemPath(rt: ResourceType, namespace: string, name: string): string {
  return `${collectionPath(rt, namespace)}/${encodeURIComponent(name)}`;
}

function collectionPath(rt: ResourceType, namespace?: string): string {
  const base = rt.group ? `/apis/${rt.group}/${rt.version}` : `/api/${rt.version}`;
  return namespace ? `${base}/namespaces/${namespace}/${rt.plural}` : `${base}/${rt.plural}`;
}

const mergePatchOptions = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** KubeClient over @kubernetes/client-node 1.4. */
export class ClientNodeKubeClient implements KubeClient {
  private readonly custom: CustomObjectsApi;
  private readonly watcher: Watch;
  private readonly raw: RawJsonClient;

  constructor(readonly kubeConfig: KubeConfig) {
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.watcher = new Watch(kubeConfig);
    this.raw = new RawJsonClient(kubeConfig);
  }

  /** Core-group resources go through plain REST calls (CustomObjectsApi only builds /apis/<group> paths). */
  private core<T>(req: RawRequest): Promise<T> {
    return this.raw.request<T>(req);
  }

  private gvp(rt: ResourceType) {
    return { group: rt.group, version: rt.version, plural: rt.plural };
  }

  async get<T extends KubeObject>(rt: ResourceType, namespace: string, name: string): Promise<T | undefined> {
    try {
      if (!rt.group) return await this.core<T>({ method: 'GET', path: itemPath(rt, namespace, name) });
      return (
        namespace
          ? await this.custom.getNamespacedCustomObject({ ...this.gvp(rt), namespace, name })
          : await this.custom.getClusterCustomObject({ ...this.gvp(rt), name })
      ) as T;
    } catch (err) {
      const e = toKubeError(err, `get ${rt.kind} ${where(namespace, name)}`);
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async list<T extends KubeObject>(rt: ResourceType, opts: ListOptions = {}): Promise<ObjectList<T>> {
    const query = {
      ...this.gvp(rt),
      ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
      ...(opts.limit ? { limit: opts.limit } : {}),
      ...(opts.continue ? { _continue: opts.continue } : {}),
    };
    try {
      if (!rt.group) {
        const res = await this.core<{
          items?: T[];
          metadata?: { resourceVersion?: string; continue?: string };
        }>({
          method: 'GET',
          path: collectionPath(rt, opts.namespace),
          query: { labelSelector: opts.labelSelector, limit: opts.limit, continue: opts.continue },
        });
        return {
          items: res.items ?? [],
          resourceVersion: res.metadata?.resourceVersion ?? '',
          ...(res.metadata?.continue ? { continue: res.metadata.continue } : {}),
        };
      }
      const res = (
        opts.namespace
          ? await this.custom.listNamespacedCustomObject({ ...query, namespace: opts.namespace })
          : await this.custom.listClusterCustomObject(query)
      ) as { items?: T[]; metadata?: { resourceVersion?: string; continue?: string } };
      return {
        items: res.items ?? [],
        resourceVersion: res.metadata?.resourceVersion ?? '',
        ...(res.metadata?.continue ? { continue: res.metadata.continue } : {}),
      };
    } catch (err) {
      throw toKubeError(err, `list ${rt.plural}${opts.namespace ? ` in ${opts.namespace}` : ''}`);
    }
  }

  async watch<T extends KubeObject>(
    rt: ResourceType,
    opts: WatchOptions,
    onEvent: (type: WatchEventType, obj: T) => void,
    onClose: (err?: PlexusError) => void,
  ): Promise<WatchHandle> {
    let stopped = false;
    const what = `watch ${rt.plural}${opts.namespace ? ` in ${opts.namespace}` : ''}`;
    const controller = await this.watcher.watch(
      collectionPath(rt, opts.namespace),
      {
        resourceVersion: opts.resourceVersion,
        allowWatchBookmarks: opts.allowWatchBookmarks ?? true,
        timeoutSeconds: opts.timeoutSeconds,
        labelSelector: opts.labelSelector,
      },
      (type: string, obj: unknown) => {
        if (!stopped) onEvent(type as WatchEventType, obj as T);
      },
      (err: unknown) => {
        if (stopped) return;
        stopped = true;
        onClose(err ? toKubeError(err, what) : undefined);
      },
    );
    return {
      stop: () => {
        if (stopped) return;
        stopped = true;
        controller.abort();
      },
    };
  }

  async create<T extends KubeObject>(rt: ResourceType, namespace: string, body: T): Promise<T> {
    try {
      if (!rt.group) return await this.core<T>({ method: 'POST', path: collectionPath(rt, namespace), body });
      return (
        namespace
          ? await this.custom.createNamespacedCustomObject({ ...this.gvp(rt), namespace, body })
          : await this.custom.createClusterCustomObject({ ...this.gvp(rt), body })
      ) as T;
    } catch (err) {
      throw toKubeError(err, `create ${rt.kind} ${where(namespace, body.metadata.name ?? '(generated)')}`);
    }
  }

  async replace<T extends KubeObject>(
    rt: ResourceType,
    namespace: string,
    name: string,
    body: T,
  ): Promise<T> {
    try {
      if (!rt.group) return await this.core<T>({ method: 'PUT', path: itemPath(rt, namespace, name), body });
      return (
        namespace
          ? await this.custom.replaceNamespacedCustomObject({ ...this.gvp(rt), namespace, name, body })
          : await this.custom.replaceClusterCustomObject({ ...this.gvp(rt), name, body })
      ) as T;
    } catch (err) {
      throw toKubeError(err, `replace ${rt.kind} ${where(namespace, name)}`);
    }
  }

  async mergePatch<T extends KubeObject>(
    rt: ResourceType,
    namespace: string,
    name: string,
    patch: object,
  ): Promise<T> {
    try {
      if (!rt.group) {
        return await this.core<T>({
          method: 'PATCH',
          path: itemPath(rt, namespace, name),
          body: patch,
          contentType: PatchStrategy.MergePatch,
        });
      }
      return (
        namespace
          ? await this.custom.patchNamespacedCustomObject(
              { ...this.gvp(rt), namespace, name, body: patch },
              mergePatchOptions,
            )
          : await this.custom.patchClusterCustomObject(
              { ...this.gvp(rt), name, body: patch },
              mergePatchOptions,
            )
      ) as T;
    } catch (err) {
      throw toKubeError(err, `patch ${rt.kind} ${where(namespace, name)}`);
    }
  }

  async mergePatchStatus<T extends KubeObject>(
    rt: ResourceType,
    namespace: string,
    name: string,
    patch: object,
  ): Promise<T> {
    try {
      if (!rt.group) {
        return await this.core<T>({
          method: 'PATCH',
          path: `${itemPath(rt, namespace, name)}/status`,
          body: patch,
          contentType: PatchStrategy.MergePatch,
        });
      }
      return (await this.custom.patchNamespacedCustomObjectStatus(
        { ...this.gvp(rt), namespace, name, body: patch },
        mergePatchOptions,
      )) as T;
    } catch (err) {
      throw toKubeError(err, `patch status of ${rt.kind} ${namespace}/${name}`);
    }
  }

  async delete(
    rt: ResourceType,
    namespace: string,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<boolean> {
    const policy = opts.propagationPolicy;
    try {
      if (!rt.group)
        await this.core({
          method: 'DELETE',
          path: itemPath(rt, namespace, name) + (policy ? `?propagationPolicy=${policy}` : ''),
        });
      else if (namespace)
        await this.custom.deleteNamespacedCustomObject({
          ...this.gvp(rt),
          namespace,
          name,
          ...(policy ? { propagationPolicy: policy } : {}),
        });
      else
        await this.custom.deleteClusterCustomObject({
          ...this.gvp(rt),
          name,
          ...(policy ? { propagationPolicy: policy } : {}),
        });
      return true;
    } catch (err) {
      const e = toKubeError(err, `delete ${rt.kind} ${where(namespace, name)}`);
      if (isNotFound(e)) return false;
      throw e;
    }
  }
}

/** Loads a kubeconfig: the given file, else KUBECONFIG / ~/.kube/config / in-cluster service account. */
export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return kc;
}

export function createKubeClient(kubeConfig: KubeConfig): KubeClient {
  return new ClientNodeKubeClient(kubeConfig);
}

export const CRDS_RESOURCE: ResourceType = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  plural: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
};
/** Core and batch resources a controller typically reads or owns. */
export const CONFIGMAPS: ResourceType = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' };
export const SECRETS: ResourceType = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' };
export const PODS: ResourceType = { group: '', version: 'v1', plural: 'pods', kind: 'Pod' };
export const SERVICES: ResourceType = { group: '', version: 'v1', plural: 'services', kind: 'Service' };
export const JOBS: ResourceType = { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job' };
export const LEASES: ResourceType = {
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  kind: 'Lease',
};
export const EVENTS: ResourceType = {
  group: 'events.k8s.io',
  version: 'v1',
  plural: 'events',
  kind: 'Event',
};
